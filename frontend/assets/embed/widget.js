// The widget's ES module: loads its styles and its wasm, mounts it, and gives the host its API.
// The loader (/axe/embed.js) imports it when the person first opens AXE; the npm package's
// `mount(element, options)` uses it directly. Either way the widget lives in a shadow root, and
// its wasm and JS glue come from `assets` (one build's folder), so the two always match.

/** The glue of the build at `assets`, initialised: loaded once per build. */
const builds = new Map();
function loadBuild(assets) {
  if (!builds.has(assets)) {
    builds.set(
      assets,
      import(assets + "/pkg/axe.js").then(async (glue) => {
        await glue.default({ module_or_path: assets + "/pkg/axe.wasm" });
        return glue;
      }),
    );
  }
  return builds.get(assets);
}

/** Resolves once the stylesheet at `href` is in `parent` and loaded (or failed to load). */
function loadStyles(parent, href) {
  return new Promise((resolve) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    link.onload = () => resolve(true);
    link.onerror = () => resolve(false);
    parent.appendChild(link);
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
  const ready = Promise.resolve(options.assets).then(async (where) => {
    const assets = where.replace(/\/$/, "");
    const [glue] = await Promise.all([loadBuild(assets), loadStyles(root, assets + "/pkg/axe.css")]);
    if (destroyed) return null;
    widget = glue.mount(root, {
      server: options.server,
      assets,
      view: options.view || "minimized",
      draft: options.draft || "",
      activeFile: options.activeFile,
      getToken: options.getToken,
      telemetry: options.telemetry !== false,
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
      root.remove();
    },
  };
  return api;
}

/**
 * Mounts the widget in `element` (in a shadow root of its own) and returns the API: the npm
 * package's entry. `options.server` is AXE's server (the page's origin by default);
 * `options.assets` is where a build's files are served (the package's own `pkg/` and `editor/`
 * folders, copied to the host's static files); by default AXE's server, which names its
 * current build at `/axe/build.json`.
 */
export function mount(element, options = {}) {
  const server = (options.server || window.location.origin).replace(/\/$/, "");
  const shadow = element.shadowRoot || element.attachShadow({ mode: "open" });
  const root = document.createElement("div");
  root.className = "axe-root";
  if (options.theme === "dark") root.classList.add("dark");
  if (options.position === "bottom-left") root.classList.add("left");
  shadow.appendChild(root);
  const assets =
    options.assets ||
    fetch(server + "/axe/build.json")
      .then((response) => response.json())
      .then((build) => server + build.assets);
  return createWidget(root, { ...options, server, assets });
}
