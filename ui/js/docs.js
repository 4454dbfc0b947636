// /v1/docs: Swagger UI (vendored from the swagger-ui-dist npm package,
// vendor/swagger-ui) renders /v1/openapi.json. Nothing is fetched from
// anywhere else: no validator badge, no CDN. When the admin UI is signed
// in in this tab, "Try it out" sends its token (sessionStorage).

/* global SwaggerUIBundle */
const root = document.getElementById('swagger-ui');

// What Swagger UI draws without a name or keyboard access gets one:
// scrolling code blocks become focusable, parameter controls are named
// after their parameter (axe-core checks the page, tests/ui).
function mend(node) {
  for (const pre of node.querySelectorAll('pre:not([tabindex])')) {
    pre.tabIndex = 0;
  }
  for (const control of node.querySelectorAll('tr[data-param-name] select, tr[data-param-name] input, tr[data-param-name] textarea')) {
    if (control.hasAttribute('aria-label') || control.labels?.length) continue;
    const row = control.closest('tr[data-param-name]');
    control.setAttribute('aria-label', `${row.dataset.paramName} (${row.dataset.paramIn})`);
  }
  for (const control of node.querySelectorAll('.body-param textarea, .responses-inner select, .content-type select')) {
    if (!control.hasAttribute('aria-label') && !control.labels?.length) {
      control.setAttribute('aria-label', control.tagName === 'TEXTAREA' ? 'Request body' : 'Media type');
    }
  }
  for (const btn of node.querySelectorAll('button')) {
    const text = btn.textContent.trim();
    const label = btn.getAttribute('aria-label');
    if (!text && !label && btn.classList.contains('close-modal')) btn.setAttribute('aria-label', 'Close');
    // The name must hold the words shown (label-content-name-mismatch).
    if (text && label && !label.toLowerCase().includes(text.toLowerCase())) {
      btn.setAttribute('aria-label', `${text}: ${label}`);
    }
  }
}
new MutationObserver(() => mend(root)).observe(root, { childList: true, subtree: true });

const ui = SwaggerUIBundle({
  url: '/v1/openapi.json',
  dom_id: '#swagger-ui',
  // Deep links put a link inside each operation's button (a nested
  // control, which screen readers cannot reach): off.
  deepLinking: false,
  validatorUrl: null,
  tryItOutEnabled: false,
  persistAuthorization: false,
  onComplete: () => {
    const token = sessionStorage.getItem('dynconf.token');
    if (token) ui.preauthorizeApiKey('bearer', token);
  },
});
