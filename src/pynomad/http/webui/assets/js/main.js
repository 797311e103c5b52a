// Boot: exchange a one-time token from `nomad ui -authenticate`, then route.
import { h, fill } from "./dom.js";
import { post, token } from "./api.js";
import { setRoutes, start, navigate } from "./router.js";
import { shell, setActive, refreshSession } from "./layout.js";
import { errorBox, loading, emptyState } from "./components.js";

const page = (module, fn, section) => ({ load: () => import(`./pages/${module}.js`), fn, section });

const ROUTES = [
  { path: "/", redirect: "/jobs" },
  { path: "/jobs", ...page("jobs", "jobsList", "jobs") },
  { path: "/jobs/run", ...page("job_run", "runJob", "jobs") },
  { path: "/jobs/:job", ...page("job", "jobPage", "jobs") },
  { path: "/jobs/:job/:tab", ...page("job", "jobPage", "jobs") },
  { path: "/allocations/:alloc", ...page("alloc", "allocPage", "jobs") },
  { path: "/allocations/:alloc/fs/*path", ...page("files", "filesPage", "jobs") },
  { path: "/allocations/:alloc/:task", ...page("alloc", "taskPage", "jobs") },
  { path: "/allocations/:alloc/:task/logs", ...page("logs", "logsPage", "jobs") },
  { path: "/allocations/:alloc/:task/exec", ...page("exec", "execPage", "jobs") },
  { path: "/allocations/:alloc/:task/fs/*path", ...page("files", "filesPage", "jobs") },
  { path: "/clients", ...page("clients", "clientsList", "clients") },
  { path: "/clients/:node", ...page("client", "clientPage", "clients") },
  { path: "/clients/:node/monitor", ...page("monitor", "monitorPage", "clients") },
  { path: "/servers", ...page("servers", "serversList", "servers") },
  { path: "/servers/:server", ...page("servers", "serverPage", "servers") },
  { path: "/servers/:server/monitor", ...page("monitor", "monitorPage", "servers") },
  { path: "/topology", ...page("topology", "topologyPage", "topology") },
  { path: "/evaluations", ...page("evaluations", "evaluationsList", "evaluations") },
  { path: "/services", ...page("services", "servicesList", "services") },
  { path: "/services/:name", ...page("services", "servicePage", "services") },
  { path: "/variables", ...page("variables", "variablesList", "variables") },
  { path: "/variables/new", ...page("variables", "variableEdit", "variables") },
  { path: "/variables/path/*path", ...page("variables", "variablesList", "variables") },
  { path: "/variables/var/*path", ...page("variables", "variablePage", "variables") },
  { path: "/variables/edit/*path", ...page("variables", "variableEdit", "variables") },
  { path: "/settings/tokens", ...page("tokens", "tokensSettings", "tokens") },
  { path: "/administration", ...page("admin", "adminIndex", "administration") },
  { path: "/administration/tokens", ...page("admin", "tokensList", "administration") },
  { path: "/administration/tokens/:id", ...page("admin", "tokenPage", "administration") },
  { path: "/administration/policies", ...page("admin", "policiesList", "administration") },
  { path: "/administration/policies/:name", ...page("admin", "policyPage", "administration") },
  { path: "/administration/namespaces", ...page("admin", "namespacesList", "administration") },
  { path: "/administration/namespaces/:name", ...page("admin", "namespacePage", "administration") },
];

let generation = 0;

async function renderRoute(found, signal) {
  const { content } = shell();
  const mine = ++generation;
  if (!found) {
    setActive(null);
    document.title = "Not found - Nomad";
    fill(content, emptyState("Page not found", "Nothing lives at this address."),
      h("p.center", h("a.btn", { href: "/ui/jobs" }, "Go to jobs")));
    return;
  }
  const { route, params } = found;
  if (route.redirect) return navigate(route.redirect, { replace: true });
  setActive(route.section);
  content.classList.add("is-loading");
  const ctx = {
    params, signal,
    query: Object.fromEntries(new URLSearchParams(location.search)),
    el: h("div.page"),
    title: (text) => { document.title = `${text} - Nomad`; },
  };
  const timer = setTimeout(() => { if (mine === generation) fill(content, loading()); }, 150);
  try {
    const module = await route.load();
    await module[route.fn](ctx);
  } catch (err) {
    if (signal.aborted) return;
    console.warn(err);
    fill(ctx.el, errorBox(err));
  } finally {
    clearTimeout(timer);
  }
  if (mine !== generation) return;
  content.classList.remove("is-loading");
  fill(content, ctx.el);
  if (document.activeElement === document.body) content.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

// `nomad ui -authenticate` opens /ui/?ott=<one-time secret>: trade it for the token's secret,
// keep that in local storage, and drop the one-time secret from the address bar.
async function exchangeOneTimeToken() {
  const params = new URLSearchParams(location.search);
  const ott = params.get("ott");
  if (!ott) return;
  params.delete("ott");
  const qs = params.toString();
  history.replaceState(null, "", location.pathname + (qs ? `?${qs}` : ""));
  try {
    const resp = await post("/v1/acl/token/onetime/exchange", { OneTimeSecretID: ott });
    token.set(resp.Token.SecretID);
  } catch (err) {
    console.warn("one-time token exchange failed:", err.message);
  }
}

async function boot() {
  shell();
  await exchangeOneTimeToken();
  await refreshSession();
  setRoutes(ROUTES, renderRoute);
  start();
}

boot();
