import { chatPromptLayout } from "../runtime/chatPrompt.js";
import type { TillerModel } from "../runtime/TillerModel.js";

/** A user message laid out with the model's chat template (or the plain fallback), ready to continue. */
export async function formatChatPrompt(model: TillerModel, user: string): Promise<string> {
    return (await chatPromptLayout({ chatTemplate: model.chatTemplate, eosText: model.tokenText(model.shape.eos, true) })).prompt(user);
}
