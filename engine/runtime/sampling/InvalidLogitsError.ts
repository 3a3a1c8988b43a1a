/**
 * Thrown when a logit vector cannot describe a probability distribution: it is empty, contains
 * NaN or +Infinity, or masks every token with -Infinity. A broken steering vector can easily
 * produce NaNs; surfacing that beats quietly sampling token 0 forever.
 */
export class InvalidLogitsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "InvalidLogitsError";
    }
}
