// A React app with its own code editor (a textarea) and AXE beside it, from @axe/widget/react:
// the file it edits is AXE's active file, and a diff applied in AXE comes back into it.
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { AxeWidget } from "@axe/widget/react";

const server = document.getElementById("root").dataset.axeServer;
const initial = "fn main() {\n    println!(\"from the React host\");\n}\n";

function App() {
  const [code, setCode] = useState(initial);
  const [applied, setApplied] = useState(0);
  return (
    <main>
      <h1>React host</h1>
      <label>
        Host editor
        <textarea aria-label="Host editor" rows={12} cols={60} value={code}
          onChange={(event) => setCode(event.target.value)} />
      </label>
      <p role="status" aria-label="Applied diffs">{applied}</p>
      <AxeWidget
        server={server}
        assets="/react/axe"
        view="canvas"
        activeFile={{ id: "react-main", name: "main.rs", language: "rust", content: code }}
        onDiffApplied={({ content }) => {
          setCode(content);
          setApplied((n) => n + 1);
        }}
      />
    </main>
  );
}

createRoot(document.getElementById("root")).render(<App />);
