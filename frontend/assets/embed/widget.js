// The widget's ES module: loads its styles and its wasm, mounts it, and gives the host its API.
// The loader (/axe/embed.js) imports it when the person first opens AXE; the npm package's
// `mount(element, options)` uses it directly. Either way the widget lives in a shadow root.
import init, { mount as mountWasm } from "../pkg/axe.js";

let wasmReady = null;

/** Resolves once the stylesheet at `href` is in `shadow` and loaded (or failed to load). */
function loadStyles(shadow, href) {
  return new Promise((resolve) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    link.onload = () => resolve(true);
    link.onerror = () => resolve(false);
    shadow.appendChild(link);
  });
}

/**
 * Creates the widget in `root` (an element inside a shadow root) and returns the host's API.
 * Calls made before the wasm is ready wait for it, in order.
 * @param {HTMLElement} root
 * @param {{server: string, assets: string, view?: string, draft?: string,
 *          activeFile?: object, getToken?: Function}} options
 */
export function createWidget(root, options) {
  const listeners = new Map();
  const emit = (name, detail) => {
    for (const callback of [...(listeners.get(name) || [])]) {
      try {
        callback(detail);
      } catch (error) {
        // One host callback failing must not stop the others or the widget.
        console.error("[AXE] an event listener failed", error);
      }
    }
  };
  let widget = null;
  let destroyed = false;
  const assets = options.assets.replace(/\/$/, "");
  const shadow = root.getRootNode();
  if (!wasmReady) wasmReady = init({ module_or_path: assets + "/pkg/axe.wasm" });
  const ready = Promise.all([loadStyles(shadow, assets + "/pkg/axe.css"), wasmReady]).then(() => {
    if (destroyed) return null;
    widget = mountWasm(root, {
      server: options.server,
      assets,
      view: options.view || "minimized",
      draft: options.draft || "",
      activeFile: options.activeFile,
      getToken: options.getToken,
      emit,
      importModule: (url) => import(url),
    });
    return widget;
  });
  const later = (action) => {
    if (widget) return action(widget);
    ready.then((w) => w && action(w));
  };
  const api = {
    /** Resolves once the widget is mounted. */
    ready: ready.then(() => api),
    open() {
      later((w) => w.setView("panel"));
    },
    close() {
      later((w) => w.setView("minimized"));
    },
    setView(view) {
      if (!["minimized", "panel", "canvas"].includes(view)) {
        throw new TypeError(`AXE.setView: "${view}" is not minimized, panel or canvas`);
      }
      later((w) => w.setView(view));
    },
    setActiveFile(file) {
      for (const key of ["id", "name", "language", "content"]) {
        if (typeof file?.[key] !== "string") {
          throw new TypeError(`AXE.setActiveFile: the file needs a string "${key}"`);
        }
      }
      later((w) => w.setActiveFile(file));
    },
    on(name, callback) {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name).add(callback);
      return () => api.off(name, callback);
    },
    off(name, callback) {
      listeners.get(name)?.delete(callback);
    },
    configure(settings) {
      later((w) => w.configure(settings || {}));
    },
    destroy() {
      destroyed = true;
      later((w) => w.destroy());
      listeners.clear();
    },
  };
  return api;
}

/**
 * The npm package's entry: mounts the widget in `element` (in a shadow root of its own) and
 * returns the API. `options.server` is AXE's server; `options.assets` where the package's
 * files are served (by default AXE's server, which serves the same build).
 */
export function mount(element, options = {}) {
  const server = (options.server || window.location.origin).replace(/\/$/, "");
  const shadow = element.shadowRoot || element.attachShadow({ mode: "open" });
  const root = document.createElement("div");
  root.className = "axe-root";
  shadow.appendChild(root);
  return createWidget(root, { ...options, server, assets: options.assets || new URL("..", import.meta.url).href });
}
