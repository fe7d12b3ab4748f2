// Starts Swagger UI on the docs page, in place of Swagger UI's stock initializer. The server
// writes the settings in; the browser adds what only it knows for certain, the address the page
// was loaded from, so that the sign-in's redirect URI (the contract's /docs/oauth2-redirect, where
// Swagger UI's default would end in .html) is right behind any proxy without trusting a request
// header. The sign-in pop-up can only hand the code back to a page of the same origin anyway.
"use strict";

window.addEventListener("load", function () {
  var settings = {{settings}};
  var page = window.location.href;
  window.ui = SwaggerUIBundle(
    Object.assign({}, settings.ui, {
      url: new URL(settings.ui.url, page).href,
      oauth2RedirectUrl: new URL("oauth2-redirect", page).href,
      presets: [SwaggerUIBundle.presets.apis],
      plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    })
  );
  if (settings.oauth) {
    window.ui.initOAuth(settings.oauth);
  }
});
