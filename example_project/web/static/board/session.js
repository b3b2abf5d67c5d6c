// Signing up, logging in and out with Parse.User; the SDK keeps the session in localStorage.
import { $, clearStatus, showError } from "./dom.js";

export function wireAuthForm(onSignedIn) {
  const form = $("#auth-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearStatus();
    const action = event.submitter ? event.submitter.value : "login";
    const username = form.username.value.trim();
    const password = form.password.value;
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      if (action === "signup") {
        const user = new Parse.User();
        user.set("username", username);
        user.set("password", password);
        await user.signUp();
      } else {
        await Parse.User.logIn(username, password);
      }
      form.reset();
      onSignedIn(Parse.User.current());
    } catch (error) {
      showError(error);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
}

export async function logOut() {
  try {
    await Parse.User.logOut();
  } catch {
    // an expired session is logged out all the same
  }
}

// The stored session may have been revoked since: ask the server before trusting it.
export async function currentUser() {
  const user = Parse.User.current();
  if (!user) return null;
  try {
    await user.fetch();
    return user;
  } catch (error) {
    if (error.code === Parse.Error.INVALID_SESSION_TOKEN) {
      await logOut();
      return null;
    }
    throw error;
  }
}
