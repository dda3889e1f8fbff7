// @axe/widget/react: AXE as a React component.
//   <AxeWidget server="https://axe.example.com" getToken={getToken} activeFile={file}
//              onDiffApplied={({ content }) => setCode(content)} />
import { createElement, useEffect, useRef } from "react";
import { mount } from "./index.js";

/** Mounts AXE while rendered; `activeFile` changes are passed on, callbacks stay current. */
export function AxeWidget(props) {
  const element = useRef(null);
  const widget = useRef(null);
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const axe = mount(element.current, {
      server: props.server,
      assets: props.assets,
      view: props.view,
      theme: props.theme,
      position: props.position,
      activeFile: props.activeFile,
      getToken: props.getToken && (() => latest.current.getToken()),
    });
    widget.current = axe;
    const relay = (name, prop) => axe.on(name, (detail) => latest.current[prop]?.(detail));
    const off = [
      relay("diff_applied", "onDiffApplied"),
      relay("diff_rejected", "onDiffRejected"),
      relay("file_update", "onFileUpdate"),
      relay("connection", "onConnection"),
    ];
    return () => {
      off.forEach((stop) => stop());
      axe.destroy();
      widget.current = null;
    };
    // Mounted once per server: the other props are passed on as they change.
  }, [props.server, props.assets]);

  const file = props.activeFile;
  useEffect(() => {
    if (file && widget.current) widget.current.setActiveFile(file);
  }, [file?.id, file?.name, file?.language, file?.content]);

  return createElement("div", { ref: element, "data-axe-widget": "" });
}
