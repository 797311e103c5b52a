// Copies the browser builds of the UI's npm dependencies into the Python package's assets
// (src/pynomad/http/webui/assets/vendor/, gitignored), where the agent serves them at
// /ui/assets/vendor/. Run by `make setup` after `npm ci`.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "pynomad", "http", "webui", "assets", "vendor");
const files = {
  "@xterm/xterm/lib/xterm.mjs": "xterm.mjs",
  "@xterm/xterm/css/xterm.css": "xterm.css",
  "@xterm/addon-fit/lib/addon-fit.mjs": "addon-fit.mjs",
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const [from, to] of Object.entries(files)) {
  copyFileSync(join(here, "node_modules", from), join(out, to));
}
console.log(`ui: ${Object.keys(files).length} vendor files in ${out}`);
