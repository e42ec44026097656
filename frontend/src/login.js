// The login page: an overlay over the wall, shown when there is no session
// (GET /api/v1/session answers 401) and again whenever a call answers 401
// (the session expired or was revoked). Chinese by default; its language
// switch is the page's (i18n.js).
import { t, lang, setLang, onLang, applyI18n } from './i18n.js';
import { api, postJSON, fetchJSON } from './urls.js';
import { loginErrorText, retryAfterSeconds } from './access.js';

const $ = (s) => document.querySelector(s);

// currentSession: GET /api/v1/session, null when not signed in.
export async function currentSession() {
  try {
    const r = await fetch(api.session(), { headers: { Accept: 'application/json' } });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

let pending = null; // the login being shown: one overlay however many 401s arrive

// showLogin shows the overlay and resolves with the session once the user
// signed in. note: a line above the form (why it is shown again).
export function showLogin({ note = '' } = {}) {
  if (pending) return pending;
  const box = $('#login');
  const form = $('#login-form');
  const err = $('#login-error');
  const submit = $('#login-submit');
  let last = null; // the last refusal, re-worded when the language changes
  const render = () => {
    applyI18n(box);
    $('#login-note').textContent = note ? t(note) : '';
    err.textContent = last ? loginErrorText(last) : '';
  };
  const off = onLang(render);
  const toggle = () => {
    const next = lang() === 'zh' ? 'en' : 'zh';
    setLang(next);
    try {
      localStorage.setItem('wangge.lang', next);
    } catch {
      /* private mode */
    }
  };
  $('#login-lang').onclick = toggle;
  box.hidden = false;
  document.body.classList.add('signed-out');
  render();
  $('#login-name').focus();
  pending = new Promise((resolve) => {
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const name = $('#login-name').value.trim();
      const password = $('#login-password').value;
      if (!name || !password) {
        last = { status: 400 };
        return render();
      }
      submit.disabled = true;
      submit.textContent = t('login.busy');
      const res = await postJSON(api.session(), { name, password }, { quiet401: true });
      submit.disabled = false;
      submit.textContent = t('login.submit');
      if (res.status === 201 && res.body) {
        last = null;
        $('#login-password').value = '';
        err.textContent = '';
        box.hidden = true;
        document.body.classList.remove('signed-out');
        form.onsubmit = null;
        off();
        pending = null;
        resolve(res.body);
        return;
      }
      last = { status: res.status, error: res.error, retryAfter: retryAfterSeconds(res.headers?.get?.('Retry-After')) };
      err.dataset.status = String(res.status);
      render();
    };
  });
  return pending;
}

// logout ends the session and starts the page over (at the login page).
export async function logout() {
  await postJSON(api.session(), undefined, { method: 'DELETE', quiet401: true });
  location.reload();
}

// requireSession: the session the boot script asked for, else the login.
export async function requireSession() {
  const s = (await (window.__session ?? Promise.resolve(null))) ?? (window.__session ? null : await currentSession());
  return s ?? showLogin();
}

// stillSignedIn asks the server (a stream that dropped may be a session
// that ended): false when it answers 401, true otherwise.
export async function stillSignedIn() {
  try {
    await fetchJSON(api.session());
    return true;
  } catch (e) {
    return e?.status !== 401;
  }
}
