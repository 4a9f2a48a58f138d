// The login form: POST /api/login sets the session cookie, then on to the user's page.
import { api, langButton, site, t, translate } from "./common.js";

const HOME = { patrol: "/patrol", integrator: "/zones" };

async function main() {
  const info = await api("/api/site");
  Object.assign(site, info);
  for (const node of document.querySelectorAll("[data-site-name]")) node.textContent = info.name;
  translate();
  document.title = `${t("login")} · ${info.name}`;
  langButton(document.getElementById("lang"));
  const form = document.getElementById("login");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const error = document.getElementById("error");
    error.textContent = "";
    try {
      const me = await api("/api/login", {
        method: "POST", body: { name: data.get("name"), password: data.get("password") },
      });
      const next = new URLSearchParams(location.search).get("next");
      location.href = next && next.startsWith("/") && !next.startsWith("//")
        ? next : (HOME[me.role] ?? "/");
    } catch (exc) {
      error.textContent = exc.status === 401 ? t("wrongLogin") : exc.message;
    }
  });
}

main();
