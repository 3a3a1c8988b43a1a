// Line icons (24×24, stroke = currentColor).
import type { ReactNode } from "react";

function Icon(props: { children: ReactNode; size?: number }) {
    const size = props.size ?? 18;
    return (
        <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8"
            strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
            {props.children}
        </svg>
    );
}

export const StartIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M4 11 12 4l8 7" /><path d="M6 10v9h12v-9" /><path d="M10 19v-5h4v5" /></Icon>
);
export const ProbesIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M3 20h18" /><path d="M6 20v-4M10 20v-7M14 20v-3M18 20v-9" opacity="0.55" /><path d="M3 14c4 0 5-9 9-9s5 6 9 6" /></Icon>
);
export const SessionsIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M7 4h11a2 2 0 0 1 2 2v11" opacity="0.55" /><rect x="4" y="7" width="13" height="13" rx="2" /><path d="m9 11 4 2.5L9 16z" /></Icon>
);
export const ModelIcon = (p: { size?: number }) => (
    <Icon size={p.size}><rect x="4" y="4" width="16" height="16" rx="3" /><path d="M9 9h6v6H9z" /><path d="M9 2v2M15 2v2M9 20v2M15 20v2M2 9h2M2 15h2M20 9h2M20 15h2" /></Icon>
);
export const VectorsIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M4 20 20 4" /><path d="M13 4h7v7" /><path d="M4 12v8h8" opacity="0.55" /></Icon>
);
export const RunIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M7 5v14l11-7z" /></Icon>
);
export const CompareIcon = (p: { size?: number }) => (
    <Icon size={p.size}><rect x="3" y="4" width="7" height="16" rx="1.5" /><rect x="14" y="4" width="7" height="16" rx="1.5" /></Icon>
);
export const StopIcon = (p: { size?: number }) => (
    <Icon size={p.size}><rect x="6" y="6" width="12" height="12" rx="2" /></Icon>
);
export const PlusIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M12 5v14M5 12h14" /></Icon>
);
export const CloseIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M6 6l12 12M18 6 6 18" /></Icon>
);
export const AlertIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M12 3 2 20h20z" /><path d="M12 10v4M12 17v.5" /></Icon>
);
export const FolderIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z" /></Icon>
);
export const DiceIcon = (p: { size?: number }) => (
    <Icon size={p.size}><rect x="4" y="4" width="16" height="16" rx="3" /><path d="M9 9h.01M15 15h.01M15 9h.01M9 15h.01" /></Icon>
);
export const TrashIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3" /></Icon>
);
export const PencilIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M4 20h4L19 9l-4-4L4 16z" /><path d="m13.5 6.5 4 4" /></Icon>
);
export const DownloadIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M12 4v11" /><path d="m7 10 5 5 5-5" /><path d="M5 20h14" /></Icon>
);
export const ChartIcon = (p: { size?: number }) => (
    <Icon size={p.size}><path d="M4 20h16" /><path d="M7 16v-5M12 16V7M17 16v-8" /></Icon>
);
export const LogoIcon = (p: { size?: number }) => (
    <Icon size={p.size ?? 22}><path d="M3 17c4 0 5-10 9-10s5 10 9 10" /><path d="M12 7V3" /><circle cx="12" cy="3" r="0.5" /></Icon>
);
