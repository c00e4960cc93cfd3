// The studio's template editor: CodeMirror 6 over the editor page's <textarea id="source">, which
// stays the form field (the page works without script). Jinja highlighting, line numbers, and the
// server's problems (data-problems: [{line, column, problem}]) marked at their line and column.
// Bundled by esbuild (make editor) into chalicelib/studio/static/editor.js; no CDN.
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { StreamLanguage, bracketMatching, defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { jinja2 } from "@codemirror/legacy-modes/mode/jinja2";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";

const nonce = document.currentScript ? document.currentScript.nonce : "";

function diagnostics(doc, problems) {
  return problems.map((problem) => {
    const line = doc.line(Math.min(Math.max(problem.line || 1, 1), doc.lines));
    const from = Math.min(line.from + Math.max((problem.column || 1) - 1, 0), line.to);
    return { from, to: Math.max(from + 1, line.to), severity: "error", message: problem.problem };
  });
}

function mount(textarea) {
  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        EditorView.cspNonce.of(nonce),
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        drawSelection(),
        history(),
        bracketMatching(),
        StreamLanguage.define(jinja2),
        syntaxHighlighting(defaultHighlightStyle),
        lintGutter(),
        EditorView.lineWrapping,
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ "aria-label": "Template source", spellcheck: "false" }),
      ],
    }),
  });
  textarea.hidden = true;
  textarea.after(view.dom);
  const problems = JSON.parse(textarea.dataset.problems || "[]");
  if (problems.length) {
    view.dispatch(setDiagnostics(view.state, diagnostics(view.state.doc, problems)));
  }
  textarea.form.addEventListener("submit", () => {
    textarea.value = view.state.doc.toString();
  });
  document.querySelectorAll("[data-goto-line]").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const line = view.state.doc.line(Math.min(Number(link.dataset.gotoLine), view.state.doc.lines));
      view.dispatch({ selection: { anchor: line.from }, scrollIntoView: true });
      view.focus();
    });
  });
  window.dropfrontEditor = view; // for the browser tests and the console
}

const source = document.getElementById("source");
if (source) mount(source);
