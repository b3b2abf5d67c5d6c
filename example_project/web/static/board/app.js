// Start-up: point the SDK at the server the page came from, then show the right view.
import { $, show, showError } from "./dom.js";
import { currentUser, logOut, wireAuthForm } from "./session.js";
import { closeBoard, openBoard, wireNewTaskForm, wireStats } from "./tasks.js";

const config = JSON.parse($("#board-config").textContent);
Parse.initialize(config.appId, config.javascriptKey);
Parse.serverURL = new URL(config.mount, location.origin).href;
Parse.liveQueryServerURL = Parse.serverURL.replace(/^http/, "ws");

function setView(name, user) {
  document.body.dataset.view = name;
  show($("#auth-view"), name === "auth");
  show($("#board-view"), name === "board");
  show($("#who"), name === "board");
  $("#who-name").textContent = user ? user.getUsername() : "";
}

async function signedIn(user) {
  setView("board", user);
  try {
    await openBoard();
  } catch (error) {
    showError(error);
  }
}

wireAuthForm(signedIn);
wireNewTaskForm();
wireStats();
$("#logout").addEventListener("click", async () => {
  await closeBoard();
  await logOut();
  // The SDK keeps one LiveQuery socket per page, opened with the old session:
  // a fresh page gives the next person a fresh one.
  location.reload();
});

try {
  const user = await currentUser();
  if (user) await signedIn(user);
  else setView("auth");
} catch (error) {
  setView("auth");
  showError(error);
}
