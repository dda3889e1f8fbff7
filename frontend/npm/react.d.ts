import type { ActiveFile, AxeEvents, AxeView, GetToken } from "./index.js";

export interface AxeWidgetProps {
  /** AXE's server; the page's origin by default. */
  server?: string;
  /** Where this package's `pkg/` and `editor/` folders are served; AXE's server by default. */
  assets?: string;
  view?: AxeView;
  theme?: "light" | "dark";
  position?: "bottom-right" | "bottom-left";
  /** The file the host's editor shows; changes are passed to the widget. */
  activeFile?: ActiveFile;
  getToken?: GetToken;
  onDiffApplied?: (detail: AxeEvents["diff_applied"]) => void;
  onDiffRejected?: (detail: AxeEvents["diff_rejected"]) => void;
  onFileUpdate?: (detail: AxeEvents["file_update"]) => void;
  onConnection?: (detail: AxeEvents["connection"]) => void;
}

/** AXE as a React component: mounted while rendered. */
export function AxeWidget(props: AxeWidgetProps): JSX.Element;
