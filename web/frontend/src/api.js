// JSON calls to the workbench API (/owner/api, see notes/workbench_api.md), CSRF token included.
import { t } from './i18n.js';

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) return meta.getAttribute('content');
  const input = document.querySelector('input[name="csrf_token"]');
  return input ? input.value : '';
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.localized_message || body.message)) || `HTTP ${status}`);  // the owner's language
    this.status = status;
    this.body = body || {};
  }
}

export async function call(method, url, body, { raw = false, text = false } = {}) {
  const headers = { 'X-CSRFToken': csrfToken(), Accept: 'application/json' };
  let payload;
  if (body instanceof FormData) payload = body;
  else if (raw) { payload = body; headers['Content-Type'] = 'text/plain; charset=utf-8'; }
  else if (body !== undefined) { payload = JSON.stringify(body); headers['Content-Type'] = 'application/json'; }
  const response = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' });
  const type = response.headers.get('Content-Type') || '';
  if (!response.ok) {
    let data = null;
    if (type.includes('json')) data = await response.json().catch(() => null);
    else data = { message: (await response.text().catch(() => '')).slice(0, 200) || `HTTP ${response.status}` };
    throw new ApiError(response.status, data);
  }
  if (text) return response.text();
  return type.includes('json') ? response.json() : response.text();
}

export function errorText(err) {
  return t('error', { message: err.message || String(err) });
}

export function apiUrls(config) {
  // The route passes its URLs (`{path}`, `{lang}`, `{deployment_id}` mark where values go);
  // the contract's paths are the fallback.
  const id = config.draft.id;
  const given = config.urls || {};
  const api = '/owner/api';
  const draft = given.draft || `${api}/drafts/${id}`;
  const enc = (path) => path.split('/').map(encodeURIComponent).join('/');
  const fill = (template, values) => template.replace(/{(\w+)}/g, (_, key) => values[key]);
  const withQuery = (url, key, value) => `${url}${url.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
  return {
    draft,
    file: (path) => fill(given.file || `${draft}/files/{path}`, { path: enc(path) }),
    validate: given.validate || `${draft}/validate`,
    compare: (dep) => withQuery(given.compare || `${draft}/compare`, 'with', dep),
    download: given.download || `${draft}/download`,
    upload: given.upload || `${draft}/upload`,
    deploy: given.deploy || `${draft}/deploy`,
    translations: (lang) => fill(given.translations || `${draft}/translations/{lang}`, { lang: encodeURIComponent(lang) }),
    operators: given.operators || `${api}/operators`,
    bundleIndex: given.bundle_index || `${api}/bundle-index?draft=${encodeURIComponent(id)}`,
    formPreview: given.forms_preview || `${api}/forms/preview`,
    formTry: given.forms_try || `${api}/forms/try`,
    deploymentFile: (dep, path) => fill(given.deployed_file || '/owner/deployments/{deployment_id}/files/{path}',
      { deployment_id: encodeURIComponent(dep), path: enc(path) }),
  };
}
