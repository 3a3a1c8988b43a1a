// Errors about contrastive datasets: the Tiller JSON format, the importers and the built-in set.
// The set of codes is closed, so that the CLI and the UI can react to each one deliberately.

export type DatasetErrorCode =
    /** The text is not valid JSON (or a JSONL line is not); `line` and `column` say where. */
    | "MALFORMED_JSON"
    /** A field is missing, has the wrong type, is empty, or a pair's two completions are equal; `path` says which. */
    | "INVALID_FIELD"
    /** The dataset holds no pairs. */
    | "EMPTY"
    /** Two lists that are read pairwise (repeng lists, cvector-generator files) differ in length. */
    | "MISMATCHED_COUNTS"
    /** No built-in dataset has that name, or a file matches none of the formats Tiller reads. */
    | "UNKNOWN_DATASET";

export interface DatasetErrorDetails {
    /** the file (or other source) being read */
    source?: string;
    /** JSON path of the offending value, e.g. `pairs[3].negative` */
    path?: string;
    /** 1-based line and column of a JSON syntax error */
    line?: number;
    column?: number;
}

export class DatasetError extends Error {
    override readonly name = "DatasetError";
    readonly source: string | undefined;
    readonly path: string | undefined;
    readonly line: number | undefined;
    readonly column: number | undefined;

    constructor(
        readonly code: DatasetErrorCode,
        message: string,
        details: DatasetErrorDetails = {}
    ) {
        super(message);
        this.source = details.source;
        this.path = details.path;
        this.line = details.line;
        this.column = details.column;
    }
}
