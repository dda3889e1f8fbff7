/** A file the host's own editor shows; it becomes the chat's context and the canvas's file. */
export interface ActiveFile {
  id: string;
  name: string;
  language: string;
  content: string;
}

/** What the widget tells the host. */
export interface AxeEvents {
  /** The server's copy of a file changed (an applied diff, a merge, another tab's edit). */
  file_update: { type: "file_update"; file_id: string; content: string; version: number | null };
  /** A diff the person applied is stored; `content` is the file with it. */
  diff_applied: { type: "diff_applied"; diff_id: string; file_id: string; content: string };
  /** A diff the person rejected is forgotten. */
  diff_rejected: { type: "diff_rejected"; diff_id: string };
  /** The connection changed. */
  connection: {
    type: "connection";
    status: "connecting" | "connected" | "offline" | "taken_over" | "sign_in_expired" | "forbidden";
  };
}

export type AxeView = "minimized" | "panel" | "canvas";

/** Returns the host's token for AXE (or a promise of it), asked before each connect. */
export type GetToken = () => string | Promise<string>;

export interface MountOptions {
  /** AXE's server, e.g. "https://axe.example.com"; the page's origin by default. */
  server?: string;
  /** Where this package's `pkg/` and `editor/` folders are served; AXE's server by default. */
  assets?: string;
  /** The form the widget starts in; "minimized" by default. */
  view?: AxeView;
  /** "light" (default) or "dark". */
  theme?: "light" | "dark";
  /** "bottom-right" (default) or "bottom-left". */
  position?: "bottom-right" | "bottom-left";
  /** The file the host shows. */
  activeFile?: ActiveFile;
  /** For hosts that mint AXE's tokens (jwt mode). */
  getToken?: GetToken;
  /** `false`: the widget records and sends no telemetry. */
  telemetry?: boolean;
}

/** The host's handle on a mounted widget (the same API as `window.AXE` of the script tag). */
export interface AxeWidget {
  /** Resolves once the widget's code is loaded and it is mounted. */
  ready: Promise<AxeWidget>;
  open(): void;
  close(): void;
  setView(view: AxeView): void;
  setActiveFile(file: ActiveFile): void;
  on<E extends keyof AxeEvents>(event: E, callback: (detail: AxeEvents[E]) => void): () => void;
  off<E extends keyof AxeEvents>(event: E, callback: (detail: AxeEvents[E]) => void): void;
  configure(settings: { getToken?: GetToken }): void;
  /** Unmounts the widget and closes its connection. */
  destroy(): void;
}

/** Mounts AXE into `element` (in a shadow root of its own). */
export function mount(element: HTMLElement, options?: MountOptions): AxeWidget;
