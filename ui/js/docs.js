// /v1/docs: Swagger UI (vendored from the swagger-ui-dist npm package,
// vendor/swagger-ui) renders /v1/openapi.json. Nothing is fetched from
// anywhere else: no validator badge, no CDN. When the admin UI is signed
// in in this tab, "Try it out" sends its token (sessionStorage).

/* global SwaggerUIBundle */
const ui = SwaggerUIBundle({
  url: '/v1/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  persistAuthorization: false,
  onComplete: () => {
    const token = sessionStorage.getItem('dynconf.token');
    if (token) ui.preauthorizeApiKey('bearer', token);
  },
});
