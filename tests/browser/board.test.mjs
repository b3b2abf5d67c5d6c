// The demo task board, end to end: real users in real browser contexts, one server.
//
// Started by test_board.py, which serves the example project and sets BOARD_URL,
// PARSE_APP_ID, PARSE_MASTER_KEY, CHROMIUM_PATH and BROWSER_ARTIFACTS_DIR. Each browser
// context is one person (its own localStorage, so its own Parse session). The steps
// depend on each other and run in order.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";

const BOARD_URL = required("BOARD_URL");
const APP_ID = required("PARSE_APP_ID");
const MASTER_KEY = required("PARSE_MASTER_KEY");
const ARTIFACTS = required("BROWSER_ARTIFACTS_DIR");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
// This machine has no network beyond loopback: keep Chromium from trying.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const PASSWORD = "correct horse battery";
const ATTACHMENT = "tyre pressure: 3 bar front, 3.5 bar back\n";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this suite through test_board.py`);
  return value;
}

let browser;
const people = {}; // name -> { context, page }
const pageErrors = [];
let shots = 0;

async function screenshot(page, name) {
  shots += 1;
  const file = join(ARTIFACTS, `${String(shots).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Every step leaves a picture of each open page, and a failing step says so in its name.
async function step(name, body) {
  try {
    await body();
  } catch (error) {
    for (const [who, { page }] of Object.entries(people)) {
      await screenshot(page, `FAILED-${name}-${who}`).catch(() => {});
    }
    throw error;
  }
  for (const [who, { page }] of Object.entries(people)) {
    await screenshot(page, `${name}-${who}`);
  }
}

async function openAs(name) {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(`${name}: ${error.message}`));
  await page.goto(BOARD_URL + "/");
  await page.locator('body[data-view="auth"]').waitFor();
  people[name] = { context, page };
  return page;
}

async function signIn(page, username, action) {
  await page.fill("#auth-username", username);
  await page.fill("#auth-password", PASSWORD);
  await page.click(action === "signup" ? "#signup" : "#login");
  await page.locator('body[data-view="board"][data-live="on"]').waitFor();
  assert.equal(await page.textContent("#who-name"), username);
}

const taskRow = (page, title) => page.locator("li.task", { hasText: title });

async function addTask(page, title, attachment) {
  await page.fill("#new-title", title);
  if (attachment) await page.setInputFiles("#new-attachment", attachment);
  await page.click("#add-task");
  await taskRow(page, title).waitFor();
}

async function master(method, path, body) {
  const response = await fetch(`${BOARD_URL}/parse/${path}`, {
    method,
    headers: {
      "X-Parse-Application-Id": APP_ID,
      "X-Parse-Master-Key": MASTER_KEY,
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const name of readdirSync(ARTIFACTS)) {
    if (name.endsWith(".png")) rmSync(join(ARTIFACTS, name)); // the last run's pictures
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
  console.log(`screenshots: ${ARTIFACTS}`);
});

describe("the task board, shared live between two people", () => {
  let alicePage;
  let bobPage;
  let milkId;

  it("signs up two people in two browsers", () =>
    step("signed-up", async () => {
      alicePage = await openAs("alice");
      await signIn(alicePage, "alice", "signup");
      bobPage = await openAs("bob");
      await signIn(bobPage, "bob", "signup");
      // Bob's page must never reload: what he sees from now on came over the socket.
      await bobPage.evaluate(() => (window.stillTheSamePage = true));
      await alicePage.evaluate(() => (window.stillTheSamePage = true));
      assert.equal(await alicePage.locator("li.task").count(), 0);
      assert.ok(await alicePage.locator("#empty").isVisible());
    }));

  it("shows a task Alice creates on Bob's board, live", () =>
    step("alice-created", async () => {
      await addTask(alicePage, "Buy milk");
      const row = taskRow(bobPage, "Buy milk");
      await row.waitFor();
      assert.match(await row.locator(".meta").textContent(), /by alice/);
      milkId = await row.getAttribute("data-id");
      assert.ok(milkId);
    }));

  it("lets only the author change a task", () =>
    step("not-bobs-task", async () => {
      const row = taskRow(bobPage, "Buy milk");
      assert.equal(await row.locator(".edit-button").count(), 0);
      assert.equal(await row.locator(".delete-button").count(), 0);
      assert.ok(await row.locator(".toggle").isDisabled());
      // around the UI, straight through the SDK: the ACL still says no
      const outcome = await bobPage.evaluate(async (id) => {
        const task = await new Parse.Query("Task").get(id);
        task.set("title", "Bob was here");
        return task.save().then(
          () => "saved",
          (error) => {
            task.revert(); // the SDK shares one state per object: leave the page's copy clean
            return error.code;
          },
        );
      }, milkId);
      assert.equal(outcome, 101); // Parse answers "object not found" for a write the ACL denies
      assert.equal(await taskRow(alicePage, "Buy milk").locator(".title").textContent(), "Buy milk");
    }));

  it("shows Alice's edit on Bob's board, live", () =>
    step("alice-edited", async () => {
      const row = alicePage.locator(`li.task[data-id="${milkId}"]`); // its title turns into an input
      await row.locator(".edit-button").click();
      await row.locator(".edit-title").fill("Buy oat milk");
      await row.locator(".save").click();
      await taskRow(alicePage, "Buy oat milk").locator(".edit-button").waitFor();
      await bobPage.locator(`li.task[data-id="${milkId}"] .title`, { hasText: "Buy oat milk" }).waitFor();
    }));

  it("shows Bob's task with its attachment on Alice's board, and the file opens", () =>
    step("bob-attached", async () => {
      await addTask(bobPage, "Fix bike", {
        name: "bike notes.txt",
        mimeType: "text/plain",
        buffer: Buffer.from(ATTACHMENT),
      });
      const link = taskRow(alicePage, "Fix bike").locator("a.attachment");
      await link.waitFor();
      assert.match(await link.textContent(), /bike_notes\.txt/);
      const [filePage] = await Promise.all([
        people.alice.context.waitForEvent("page"),
        link.click(),
      ]);
      await filePage.waitForLoadState();
      assert.ok(filePage.url().startsWith(`${BOARD_URL}/parse/files/`), filePage.url());
      assert.equal((await filePage.textContent("body")).trim(), ATTACHMENT.trim());
      await screenshot(filePage, "attachment-opened");
      await filePage.close();
    }));

  it("shows Bob completing his task on Alice's board, live", () =>
    step("bob-completed", async () => {
      await taskRow(bobPage, "Fix bike").locator(".toggle").check();
      await alicePage.locator('li.task[data-done="true"]', { hasText: "Fix bike" }).waitFor();
      // the completion was stored, not only drawn: a fresh query agrees
      const stored = await alicePage.evaluate(async () => {
        const task = await new Parse.Query("Task").equalTo("title", "Fix bike").first();
        return task.get("done");
      });
      assert.equal(stored, true);
    }));

  it("removes a task Alice deletes from Bob's board, live", () =>
    step("alice-deleted", async () => {
      await taskRow(alicePage, "Buy oat milk").locator(".delete-button").click();
      await bobPage.locator(`li.task[data-id="${milkId}"]`).waitFor({ state: "detached" });
      assert.equal(await bobPage.locator("li.task").count(), 1);
      assert.equal(await bobPage.evaluate(() => window.stillTheSamePage), true);
      assert.equal(await alicePage.evaluate(() => window.stillTheSamePage), true);
    }));

  it("refuses the board stats to a normal user", () =>
    step("stats-refused", async () => {
      await bobPage.click("#load-stats");
      const refusal = bobPage.locator("#stats .refused");
      await refusal.waitFor();
      assert.match(await refusal.textContent(), /does not match the required roles/);
    }));

  it("shows the board stats to an admin", () =>
    step("stats-for-admin", async () => {
      const carol = await master("POST", "users", { username: "carol", password: PASSWORD });
      await master("POST", "roles", {
        name: "Admins",
        ACL: { "*": { read: true } },
        users: {
          __op: "AddRelation",
          objects: [{ __type: "Pointer", className: "_User", objectId: carol.objectId }],
        },
      });
      const carolPage = await openAs("carol");
      await signIn(carolPage, "carol", "login");
      await taskRow(carolPage, "Fix bike").waitFor(); // an existing task, from the first load
      await carolPage.click("#load-stats");
      await carolPage.locator("#stats .total").waitFor();
      assert.equal(await carolPage.textContent("#stats .total"), "1");
      assert.equal(await carolPage.textContent("#stats .done-count"), "1");
      assert.equal(await carolPage.textContent("#stats .open-count"), "0");
      assert.match(await carolPage.textContent("#stats .authors"), /bob: 1/);
      assert.equal(await carolPage.locator("#stats .refused").count(), 0);
    }));

  it("logs out, and then the board is closed to that browser", () =>
    step("alice-logged-out", async () => {
      await alicePage.click("#logout");
      await alicePage.locator('body[data-view="auth"]').waitFor();
      const outcome = await alicePage.evaluate(() =>
        new Parse.Query("Task").find().then(
          () => "read",
          (error) => error.code,
        ),
      );
      assert.notEqual(outcome, "read");
      await alicePage.reload();
      await alicePage.locator('body[data-view="auth"]').waitFor();
    }));

  it("logs back in, and the board is live again", () =>
    step("alice-back", async () => {
      await signIn(alicePage, "alice", "login");
      await taskRow(alicePage, "Fix bike").waitFor();
      await addTask(bobPage, "Oil the chain");
      await taskRow(alicePage, "Oil the chain").waitFor();
      assert.equal(await alicePage.locator("li.task").count(), 2);
    }));

  it("had no uncaught errors in any page", () => {
    assert.deepEqual(pageErrors, []);
  });
});
