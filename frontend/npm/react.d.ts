import type { AxeEvents, MountOptions } from "./index.js";

/** The mount options, plus the host's callbacks. */
export interface AxeWidgetProps extends MountOptions {
  onDiffApplied?: (detail: AxeEvents["diff_applied"]) => void;
  onDiffRejected?: (detail: AxeEvents["diff_rejected"]) => void;
  onFileUpdate?: (detail: AxeEvents["file_update"]) => void;
  onConnection?: (detail: AxeEvents["connection"]) => void;
}

/** AXE as a React component: mounted while rendered. */
export function AxeWidget(props: AxeWidgetProps): JSX.Element;
