// The "recent models" list, kept in localStorage (most recent first, at most 8).
const KEY = "tiller.recentModels";
const LIMIT = 8;

export function readRecentModels(): string[] {
    try {
        const value: unknown = JSON.parse(localStorage.getItem(KEY) ?? "[]");
        return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string").slice(0, LIMIT) : [];
    } catch {
        return [];
    }
}

export function rememberRecentModel(path: string): string[] {
    const list = [path, ...readRecentModels().filter((item) => item !== path)].slice(0, LIMIT);
    try {
        localStorage.setItem(KEY, JSON.stringify(list));
    } catch {
        // storage full or disabled: the list just is not kept
    }
    return list;
}

export function forgetRecentModel(path: string): string[] {
    const list = readRecentModels().filter((item) => item !== path);
    try {
        localStorage.setItem(KEY, JSON.stringify(list));
    } catch {
        // ignore
    }
    return list;
}
