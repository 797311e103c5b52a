// Sign in with an ACL token (kept in local storage, never in the URL), see it, sign out.
import { h, fill, timestamp } from "../dom.js";
import { get, token } from "../api.js";
import { pageHeader, section, kv, field, errorBox, toast, badge } from "../components.js";
import { session, refreshSession } from "../layout.js";

export async function tokensSettings(ctx) {
  ctx.title("ACL tokens");
  const body = h("div");
  ctx.el.append(pageHeader("ACL tokens", { subtitle: "Your token is kept in this browser's local storage and sent with every request." }), body);
  const draw = () => {
    if (!session.aclEnabled) {
      return fill(body, h("div.notice.tone-info", h("strong", "ACLs are disabled"),
        "This cluster does not check tokens: every request may do anything."));
    }
    fill(body, session.token ? signedIn(session.token, draw) : signInForm(draw));
  };
  draw();
}

function signInForm(redraw) {
  const secret = h("input.input#token-secret", { type: "password", autocomplete: "off", placeholder: "Secret ID",
    "aria-label": "Secret ID", style: { width: "100%", maxWidth: "460px" } });
  const errors = h("div");
  const form = h("form", { onsubmit: async (ev) => {
    ev.preventDefault();
    const value = secret.value.trim();
    if (!value) return;
    token.set(value);
    try {
      await get("/v1/acl/token/self");
    } catch (err) {
      token.set("");
      fill(errors, errorBox(err.status === 403 ? Object.assign(new Error("That secret does not match a token."), { status: 0 }) : err));
      return;
    }
    secret.value = "";
    await refreshSession();
    toast("Signed in", "good");
    redraw();
  } },
  session.tokenError ? h("div.notice.tone-warn", h("strong", "Your saved token was refused"), session.tokenError) : null,
  field("Secret ID", secret, "Paste the Secret ID of an ACL token. Without one you act as the anonymous token."),
  errors,
  h("button.btn.btn-primary", { type: "submit" }, "Sign in"));
  return section("Sign in", form);
}

function signedIn(t, redraw) {
  return section("Signed in", [
    kv([["Name", t.Name || "–"], ["Type", badge(t.Type === "management" ? "success" : "client", t.Type)],
      ["Accessor ID", h("span.mono", t.AccessorID)], ["Policies", (t.Policies || []).map((p) => h("span.tag", p))],
      ["Global", t.Global ? "Yes" : "No"], ["Created", timestamp(t.CreateTime)],
      ["Expires", t.ExpirationTime ? timestamp(t.ExpirationTime) : "Never"]]),
    h("div.toolbar", { style: { marginTop: "14px", marginBottom: 0 } },
      h("button.btn#sign-out", { onclick: async () => { token.set(""); await refreshSession(); toast("Signed out"); redraw(); } }, "Sign out")),
  ]);
}
