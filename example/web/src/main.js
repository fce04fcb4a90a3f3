import "./style.css";
import { title } from "./title.js";
import { getJSON, formatPrice } from "./api.js";

const app = document.querySelector("#app");
app.innerHTML = `
  <h1 id="title"></h1>
  <section>
    <h2>Greeting</h2>
    <p id="greeting" class="pending">loading…</p>
    <p id="from-database" class="muted"></p>
  </section>
  <section>
    <h2>Items</h2>
    <ul id="items" class="pending"><li>loading…</li></ul>
  </section>
`;

const heading = app.querySelector("#title");
function renderTitle(text) {
  heading.textContent = text;
  document.title = text;
}
renderTitle(title);

// Accept a new title.js without a full page reload, so the hot-reload
// demonstration shows the heading change while the fetched data stays.
if (import.meta.hot) {
  import.meta.hot.accept("./title.js", (mod) => {
    if (mod) renderTitle(mod.title);
  });
}

function showError(el, err) {
  el.classList.remove("pending");
  el.classList.add("error");
  el.textContent = `error: ${err.message}`;
}

async function loadGreeting() {
  const el = app.querySelector("#greeting");
  try {
    const greeting = await getJSON("/api/greeting");
    el.classList.remove("pending");
    el.textContent = greeting.message;
    app.querySelector("#from-database").textContent = `from the database: ${greeting.fromDatabase}`;
  } catch (err) {
    showError(el, err);
  }
}

async function loadItems() {
  const list = app.querySelector("#items");
  try {
    const items = await getJSON("/api/items");
    list.classList.remove("pending");
    list.replaceChildren(
      ...items.map((item) => {
        const li = document.createElement("li");
        li.dataset.id = String(item.id);
        li.textContent = `${item.name} — ${formatPrice(item.priceCents)}`;
        return li;
      }),
    );
  } catch (err) {
    list.replaceChildren();
    showError(list, err);
  }
}

loadGreeting();
loadItems();
