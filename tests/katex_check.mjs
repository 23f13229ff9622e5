// Render math fragments with KaTeX and report the ones that fail.
//
// stdin:  JSON list of {"source": "file.md:12", "math": "\\frac{a}{b}", "display": true}
// stdout: JSON list of failures {"source", "math", "error"} (empty when every fragment renders)
// Exits 0 whenever it ran, whatever it found (tests/test_rendered_outputs.py asserts); non-zero
// only when it cannot run: KaTeX missing (run scripts/setup_test_deps.sh) or bad input.
//
// throwOnError: true makes every parse error an exception. strict: "ignore" accepts what KaTeX
// only warns about as not being LaTeX (Unicode text in math, \\ in inline math, ...): GitHub
// renders math with MathJax, which accepts those too, and "warn" would only print noise.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(new URL("./katex/package.json", import.meta.url));
const katex = require("katex");

const fragments = JSON.parse(readFileSync(0, "utf8"));
const failures = [];
for (const { source, math, display } of fragments) {
  try {
    katex.renderToString(math, { throwOnError: true, displayMode: Boolean(display), strict: "ignore" });
  } catch (error) {
    failures.push({ source, math, error: String(error.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(failures, null, 1) + "\n");
