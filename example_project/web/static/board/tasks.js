// The task list: loaded once, then kept current by a LiveQuery subscription.
import { $, clearStatus, h, show, showError } from "./dom.js";

const Task = "Task";
const tasks = new Map(); // objectId -> Parse.Object, what the list shows
const gone = new Set(); // deleted while the first load was on its way
let subscription = null;
let editing = null; // objectId of the task whose title is being edited

const mine = (task) => {
  const acl = task.getACL();
  return Boolean(acl && acl.getWriteAccess(Parse.User.current()));
};

// Parse prefixes stored names with a random tag; people want to see theirs.
const shownName = (file) => file.name().replace(/^[0-9a-f]{32}_/, "");

// Parse file names allow letters, digits and a few marks only.
const safeName = (name) => name.replace(/[^a-zA-Z0-9@. ~_-]/g, "_").replace(/^[^_a-zA-Z0-9]/, "_");

async function run(action) {
  clearStatus();
  try {
    await action();
  } catch (error) {
    showError(error);
  }
}

function titleView(task) {
  if (editing !== task.id) {
    return h("span", { class: "title" }, task.get("title"));
  }
  const input = h("input", { class: "edit-title", value: task.get("title"), maxlength: "200", "aria-label": "Title" });
  const save = () =>
    run(async () => {
      task.set("title", input.value);
      try {
        await task.save();
      } catch (error) {
        task.revert("title");
        throw error;
      }
      editing = null;
      render();
    });
  queueMicrotask(() => input.focus());
  return h(
    "form",
    { class: "edit", onsubmit: (e) => (e.preventDefault(), save()) },
    input,
    h("button", { type: "submit", class: "save" }, "Save"),
    h("button", { type: "button", class: "quiet cancel", onclick: () => ((editing = null), render()) }, "Cancel"),
  );
}

function taskView(task) {
  const canChange = mine(task);
  const done = Boolean(task.get("done"));
  const file = task.get("attachment");
  return h(
    "li",
    { class: `task${done ? " done" : ""}${canChange ? " mine" : ""}`, dataset: { id: task.id, done: String(done) } },
    h("input", {
      type: "checkbox",
      class: "toggle",
      checked: done,
      disabled: !canChange,
      title: canChange ? "Done?" : "Only its author can change this task",
      "aria-label": "Done",
      onchange: (e) =>
        run(async () => {
          task.set("done", e.target.checked);
          try {
            await task.save();
          } catch (error) {
            task.revert("done");
            render();
            throw error;
          }
          render();
        }),
    }),
    h(
      "div",
      { class: "body" },
      titleView(task),
      h(
        "div",
        { class: "meta" },
        `by ${task.get("authorName") || "someone"}`,
        file ? h("a", { class: "attachment", href: file.url(), target: "_blank", rel: "noopener" }, `↗ ${shownName(file)}`) : null,
      ),
    ),
    canChange && editing !== task.id
      ? h(
          "div",
          { class: "tools" },
          h("button", { type: "button", class: "quiet edit-button", onclick: () => ((editing = task.id), render()) }, "Edit"),
          h(
            "button",
            {
              type: "button",
              class: "quiet danger delete-button",
              onclick: () =>
                run(async () => {
                  await task.destroy();
                  tasks.delete(task.id);
                  render();
                }),
            },
            "Delete",
          ),
        )
      : null,
  );
}

export function render() {
  const list = $("#tasks");
  const ordered = [...tasks.values()].sort((a, b) => b.createdAt - a.createdAt);
  list.replaceChildren(...ordered.map(taskView));
  show($("#empty"), ordered.length === 0);
}

function upsert(task) {
  const known = tasks.get(task.id);
  if (known && known.updatedAt > task.updatedAt) return; // an older copy arrived late
  if (editing === task.id && known) {
    // keep the open editor; the fresh copy shows once it closes
    tasks.set(task.id, task);
    return;
  }
  tasks.set(task.id, task);
  render();
}

function forget(task) {
  gone.add(task.id);
  if (editing === task.id) editing = null;
  tasks.delete(task.id);
  render();
}

export async function openBoard() {
  tasks.clear();
  gone.clear();
  editing = null;
  render();
  const query = new Parse.Query(Task);
  // Subscribe first, then load: nothing saved in between is missed.
  subscription = await query.subscribe();
  subscription.on("open", () => (document.body.dataset.live = "on"));
  subscription.on("close", () => (document.body.dataset.live = "off"));
  subscription.on("create", upsert);
  subscription.on("enter", upsert);
  subscription.on("update", upsert);
  subscription.on("leave", forget);
  subscription.on("delete", forget);
  if (subscription.subscribed) document.body.dataset.live = "on";
  const first = await new Parse.Query(Task).descending("createdAt").limit(500).find();
  for (const task of first) {
    if (!gone.has(task.id) && !tasks.has(task.id)) tasks.set(task.id, task);
  }
  render();
}

export async function closeBoard() {
  if (subscription) {
    subscription.unsubscribe();
    subscription = null;
  }
  document.body.dataset.live = "off";
  tasks.clear();
  render();
}

export function wireNewTaskForm() {
  const form = $("#new-task");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = $("#add-task");
    button.disabled = true;
    run(async () => {
      const task = new Parse.Object(Task);
      task.set("title", form.title.value);
      const chosen = form.attachment.files[0];
      if (chosen) {
        const file = new Parse.File(safeName(chosen.name), chosen, chosen.type || undefined);
        await file.save();
        task.set("attachment", file);
      }
      await task.save();
      upsert(task);
      form.reset();
    }).finally(() => (button.disabled = false));
  });
}

export function wireStats() {
  $("#load-stats").addEventListener("click", async () => {
    const out = $("#stats");
    try {
      const stats = await Parse.Cloud.run("boardStats");
      const authors = Object.entries(stats.byAuthor || {});
      out.replaceChildren(
        h(
          "dl",
          { class: "numbers" },
          h("div", {}, h("dt", {}, "Tasks"), h("dd", { class: "total" }, String(stats.total))),
          h("div", {}, h("dt", {}, "Done"), h("dd", { class: "done-count" }, String(stats.done))),
          h("div", {}, h("dt", {}, "Open"), h("dd", { class: "open-count" }, String(stats.open))),
        ),
        h("ul", { class: "authors" }, authors.map(([name, n]) => h("li", {}, `${name}: ${n}`))),
      );
    } catch (error) {
      out.replaceChildren(h("p", { class: "refused" }, `Refused: ${error.message}`));
    }
  });
}
