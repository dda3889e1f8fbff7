// @axe/widget: mounts AXE into an element of the page (in a shadow root of its own).
//   import { mount } from "@axe/widget";
//   const axe = mount(document.getElementById("axe"), { server: "https://axe.example.com" });
//   axe.on("diff_applied", ({ file_id, content }) => editor.setValue(content));
export { mount } from "./embed/widget.js";
