// The canvas's code editor, loaded on demand by the wasm widget (see app/src/widget/editor.rs).
// CodeMirror 6 gives line numbers, syntax highlighting, undo/redo and Tab indentation.
import { EditorView, basicSetup } from "codemirror";
import { keymap } from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";
import { Annotation, Compartment, EditorState } from "@codemirror/state";
import { rust } from "@codemirror/lang-rust";
import { javascript } from "@codemirror/lang-javascript";
import { python } from "@codemirror/lang-python";

// Marks changes that came from the server, so they are not echoed back as edits.
const fromServer = Annotation.define();

// The widget hands over the canonical name of the file's language (protocol::Language::name,
// "" when AXE does not know it), so this switch lists exactly those names; a Rust test in
// app/src/widget/editor.rs keeps the two lists equal.
function languageSupport(language) {
  switch (language) {
    case "rust":
      return rust();
    case "typescript":
      return javascript({ typescript: true });
    case "javascript":
      return javascript();
    case "python":
      return python();
    default:
      return [];
  }
}

/**
 * Mounts an editor in `parent`.
 * @param {HTMLElement} parent
 * @param {{doc: string, language: string, label: string, onChange: (text: string) => void}} options
 */
export function mount(parent, options) {
  const language = new Compartment();
  const view = new EditorView({
    parent,
    // Inside the widget's shadow root, CodeMirror's styles must go there, not to the page.
    root: parent.getRootNode(),
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        language.of(languageSupport(options.language)),
        EditorView.contentAttributes.of({ "aria-label": options.label }),
        EditorView.updateListener.of((update) => {
          const remote = update.transactions.some((t) => t.annotation(fromServer));
          if (update.docChanged && !remote) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    /** Replaces the whole text (a server update); keeps the selection where it can. */
    setDoc(text) {
      if (text === view.state.doc.toString()) return;
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: text },
        annotations: fromServer.of(true),
      });
    },
    setLanguage(name) {
      view.dispatch({ effects: language.reconfigure(languageSupport(name)) });
    },
    destroy() {
      view.destroy();
    },
  };
}
