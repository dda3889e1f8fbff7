/* AXE's loader, served at /axe/embed.js. A host page adds
 *   <script src="https://AXE_HOST/axe/embed.js" async></script>
 * and gets the minimized button; nothing else is loaded until the person opens AXE. Options
 * come as data-* attributes: data-server (AXE's server; the script's own origin by default),
 * data-position (bottom-right | bottom-left), data-theme (light | dark), data-view (minimized |
 * panel | canvas) and data-telemetry (on | off).
 *
 * window.AXE is the host's API: open(), close(), setView(view), setActiveFile(file),
 * on(event, callback), off(event, callback), configure({getToken}), destroy(). A page may call
 * it before this script has run by queueing calls: window.AXE = window.AXE || [];
 * AXE.push(["setActiveFile", file]). Until the widget's code arrives, calls wait in order.
 *
 * The server fills in __AXE_ASSETS__ (where this build's files are) when it serves the file. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || (window.AXE && window.AXE.__axe)) return;
  var data = script.dataset;
  var server = (data.server || new URL(script.src, location.href).origin).replace(/\/$/, "");
  var assets = server + "__AXE_ASSETS__";
  var views = { minimized: 1, panel: 1, canvas: 1 };
  var view = views[data.view] ? data.view : "minimized";
  var waiting = Array.isArray(window.AXE) ? window.AXE.slice() : [];
  var real = null;
  var loading = null;
  var destroyed = false;

  // The widget's own box: a shadow root, so the page's styles stay out and ours stay in.
  var host = document.createElement("div");
  host.setAttribute("data-axe", "");
  var shadow = host.attachShadow({ mode: "open" });
  var css =
    ":host{all:initial!important;display:block!important}" +
    ".axe-root{font:16px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328}" +
    ".axe-root *{box-sizing:border-box}" +
    ".axe-launcher,.axe-loading{position:fixed;right:1.5rem;bottom:1.5rem;z-index:2147483000}" +
    ".left .axe-launcher,.left .axe-loading{right:auto;left:1.5rem}" +
    ".axe-launcher{width:3.5rem;height:3.5rem;border-radius:50%;border:none;background:#2563eb;" +
    "color:#fff;font:700 16px system-ui,sans-serif;cursor:pointer;box-shadow:0 4px 12px rgb(0 0 0/25%)}" +
    ".axe-launcher:focus-visible{outline:2px solid #2563eb;outline-offset:2px}" +
    ".axe-loading{width:320px;height:480px;display:flex;flex-direction:column;gap:.5rem;padding:.75rem;" +
    "background:#fff;border:1px solid #d0d7de;border-radius:12px;box-shadow:0 8px 24px rgb(0 0 0/20%)}" +
    ".axe-loading p{margin:0;flex:1;color:#57606a}" +
    ".axe-loading textarea{font:inherit;padding:.4rem;border:1px solid #d0d7de;border-radius:6px;resize:none}" +
    ".dark .axe-loading{background:#0d1117;color:#e6edf3;border-color:#30363d}";
  // A constructed style sheet needs no 'unsafe-inline' in the host's style-src; a <style>
  // element is the fallback for browsers without them.
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    shadow.adoptedStyleSheets = [sheet];
  } catch (e) {
    var style = document.createElement("style");
    style.textContent = css;
    shadow.appendChild(style);
  }
  shadow.innerHTML +=
    '<div class="axe-root"><button type="button" class="axe-launcher" aria-label="Open AXE assistant">AXE</button></div>';
  var root = shadow.querySelector(".axe-root");
  if (data.position === "bottom-left") root.classList.add("left");
  if (data.theme === "dark") root.classList.add("dark");
  var button = root.querySelector(".axe-launcher");
  var placeholder = null;

  // While the widget's code loads: its panel's place, where typing is kept for it.
  function showPlaceholder() {
    if (placeholder) return;
    placeholder = document.createElement("section");
    placeholder.className = "axe-loading";
    placeholder.setAttribute("aria-label", "AXE assistant");
    placeholder.setAttribute("aria-busy", "true");
    placeholder.innerHTML =
      '<p role="status">Loading AXE…</p><textarea rows="2" aria-label="Message AXE" placeholder="Ask AXE…"></textarea>';
    button.hidden = true;
    root.appendChild(placeholder);
    placeholder.querySelector("textarea").focus();
  }

  function failed() {
    loading = null;
    if (!placeholder) return;
    placeholder.removeAttribute("aria-busy");
    var status = placeholder.querySelector("p");
    status.textContent = "AXE could not be loaded. ";
    var retry = document.createElement("button");
    retry.type = "button";
    retry.textContent = "Try again";
    retry.onclick = function () {
      placeholder.setAttribute("aria-busy", "true");
      status.textContent = "Loading AXE…";
      load();
    };
    status.appendChild(retry);
  }

  // Loads the widget (once); the calls that waited are then made on it, in order.
  function load() {
    if (loading || real) return;
    loading = import(assets + "/embed/widget.js").then(function (module) {
      if (destroyed) return;
      var draft = placeholder ? placeholder.querySelector("textarea").value : "";
      var file = null;
      var getToken = null;
      // The latest file and token source go in at mount: the widget starts with them.
      waiting = waiting.filter(function (call) {
        if (call[0] === "setActiveFile") file = call[1];
        else if (call[0] === "configure" && call[1] && call[1].getToken) getToken = call[1].getToken;
        else return true;
        return false;
      });
      var widgetRoot = document.createElement("div");
      widgetRoot.className = root.className;
      widgetRoot.classList.add("axe-root");
      shadow.appendChild(widgetRoot);
      real = module.createWidget(widgetRoot, {
        server: server,
        assets: assets,
        view: view,
        draft: draft,
        activeFile: file || undefined,
        getToken: getToken || undefined,
        telemetry: data.telemetry !== "off",
      });
      return real.ready.then(function () {
        root.remove();
        var calls = waiting;
        waiting = [];
        calls.forEach(call);
      });
    }, failed);
  }

  function call(args) {
    var method = api[args[0]];
    if (typeof method !== "function") throw new TypeError("AXE has no method " + args[0]);
    return method.apply(api, Array.prototype.slice.call(args, 1));
  }

  // Until the widget is loaded, each method waits in line (opening also starts the load).
  function deferred(name) {
    return function () {
      var args = [name].concat(Array.prototype.slice.call(arguments));
      if (real && !waiting.length) return real[name].apply(real, args.slice(1));
      waiting.push(args);
    };
  }

  var api = {
    __axe: true,
    push: call,
    open: function () {
      api.setView("panel");
    },
    close: function () {
      api.setView("minimized");
    },
    setView: function (next) {
      if (!views[next]) throw new TypeError('AXE.setView: "' + next + '" is not minimized, panel or canvas');
      if (real) return real.setView(next);
      view = next;
      if (next !== "minimized") {
        showPlaceholder();
        load();
      } else if (placeholder && !loading) {
        placeholder.remove();
        placeholder = null;
        button.hidden = false;
        button.focus();
      }
    },
    setActiveFile: deferred("setActiveFile"),
    on: function (name, callback) {
      if (real && !waiting.length) return real.on(name, callback);
      waiting.push(["on", name, callback]);
      return function () {
        api.off(name, callback);
      };
    },
    off: deferred("off"),
    configure: deferred("configure"),
    destroy: function () {
      destroyed = true;
      if (real) real.destroy();
      host.remove();
      if (window.AXE === api) delete window.AXE;
    },
  };

  button.addEventListener("click", api.open);
  window.AXE = api;
  function attach() {
    document.body.appendChild(host);
    if (view !== "minimized") api.setView(view);
  }
  if (document.body) attach();
  else document.addEventListener("DOMContentLoaded", attach);
  var queued = waiting;
  waiting = [];
  queued.forEach(call);
})();
