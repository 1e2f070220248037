// Swagger UI for /api/docs (assets from the swagger-ui-bundle package, served by the app).
(function () {
  var node = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: node.getAttribute("data-spec-url"), dom_id: "#swagger-ui", deepLinking: true });
})();
