// The Probes view's icon: a response curve over bars (24×24, stroke = currentColor).
export const ProbesIcon = (p: { size?: number }) => (
    <svg width={p.size ?? 18} height={p.size ?? 18} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8"
        strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
        <path d="M3 20h18" />
        <path d="M6 20v-4M10 20v-7M14 20v-3M18 20v-9" opacity="0.55" />
        <path d="M3 14c4 0 5-9 9-9s5 6 9 6" />
    </svg>
);
