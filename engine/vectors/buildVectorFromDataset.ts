import type { TillerContext } from "../runtime/TillerContext.js";
import { buildSteeringVector, type BuildVectorOptions, type BuiltVector } from "./buildSteeringVector.js";
import type { ContrastiveDataset } from "./datasets/ContrastiveDataset.js";
import { formatPairTexts, type FormattedPairs } from "./formatPairTexts.js";

export interface DatasetVector extends BuiltVector {
    dataset: string;
    positiveLabel: string;
    negativeLabel: string;
    chatFormat: FormattedPairs["chatFormat"];
}

/** Formats a dataset for the context's model (chat template when it has one) and builds its vector. */
export async function buildVectorFromDataset(context: TillerContext, dataset: ContrastiveDataset, options: BuildVectorOptions = {}): Promise<DatasetVector> {
    const model = context.model;
    const formatted = await formatPairTexts(dataset, { chatTemplate: model.chatTemplate, eosText: model.tokenText(model.shape.eos, true) });
    // the dataset's groups (templates) decide the held-out splits
    const built = await buildSteeringVector(context, formatted.pairs, { name: dataset.name, groups: dataset.pairs.map((pair) => pair.group), ...options });
    return { ...built, dataset: dataset.name, positiveLabel: dataset.positiveLabel, negativeLabel: dataset.negativeLabel, chatFormat: formatted.chatFormat };
}
