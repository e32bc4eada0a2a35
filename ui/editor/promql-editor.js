// The query page's PromQL editor: CodeMirror 6 with the Prometheus project's PromQL language
// (@prometheus-io/codemirror-promql: highlighting, syntax errors, completion). Completion asks this
// Vigil's own Prometheus API (labels, label values, series, metadata) through `fetchFn`, which
// carries the API token. Bundled by scripts/build-ui.mjs into dist/ui-build/promql-editor.js
// (npm run build); the page imports it from /ui-build/promql-editor.js.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { lintKeymap } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, placeholder } from '@codemirror/view';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';

// How far back completion looks for label names and values.
const LOOKBACK_MS = 12 * 3600 * 1000;

/**
 * Creates the editor in `parent`. `fetchFn(url, init)` does the HTTP requests of completion (the
 * page's authenticated fetch); `onRun()` is called on Enter (Shift-Enter inserts a line).
 * Returns { view, getValue(), setValue(text), focus() }.
 */
export function createPromqlEditor({ parent, doc = '', origin, fetchFn, onRun, hint = '' }) {
  const promql = new PromQLExtension().activateCompletion(true).activateLinter(true).setComplete({
    remote: { url: origin, httpMethod: 'GET', fetchFn, lookbackInterval: LOOKBACK_MS, cache: { maxAge: 60_000 } },
  });
  const run = () => {
    onRun();
    return true;
  };
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        history(),
        closeBrackets(),
        bracketMatching(),
        autocompletion(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        placeholder(hint),
        EditorView.lineWrapping,
        // Enter runs unless the completion list is open (its keymap comes first and takes Enter).
        keymap.of([...closeBracketsKeymap, ...completionKeymap, { key: 'Enter', run }, ...defaultKeymap, ...historyKeymap, ...lintKeymap]),
        promql.asExtension(),
      ],
    }),
  });
  return {
    view,
    getValue: () => view.state.doc.toString(),
    setValue: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    focus: () => view.focus(),
  };
}
