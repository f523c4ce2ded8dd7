// The web UI's script (templates/base.html loads it; the Content-Security-Policy allows no inline script).
// Progressive enhancement only: every page works without it.
(function () {
  function copy(text, button) {
    var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var area = document.createElement("textarea");
      area.value = text; document.body.appendChild(area); area.select();
      document.execCommand("copy"); area.remove(); done();
    }
  }
  // Every snippet gets a copy button (not a README's text).
  document.querySelectorAll("pre:not(.readme-text)").forEach(function (pre) {
    var box = document.createElement("div"), button = document.createElement("button");
    box.className = "copyable";
    button.type = "button"; button.className = "copy"; button.textContent = "Copy";
    button.addEventListener("click", function () { copy(pre.innerText, button); });
    pre.parentNode.insertBefore(box, pre);
    box.appendChild(pre); box.appendChild(button);
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () { copy(document.querySelector(button.dataset.copy).innerText, button); });
  });
  var form = document.querySelector("form.upload");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var progress = form.querySelector("progress"), status = form.querySelector(".upload-status");
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRFToken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { progress.max = e.total; progress.value = e.loaded; }
      });
      request.addEventListener("load", function () {
        var body;
        try { body = JSON.parse(request.responseText); } catch (e) { body = {detail: request.status + " " + request.statusText}; }
        status.className = "upload-status" + (request.status < 300 ? "" : " error");
        status.textContent = body.detail;
        if (body.url) {
          var link = document.createElement("a");
          link.href = body.url; link.textContent = " View " + body.package + " " + body.version;
          status.appendChild(link);
        }
        progress.value = progress.max;
      });
      request.addEventListener("error", function () {
        status.className = "upload-status error";
        status.textContent = "The upload failed: the connection was lost.";
      });
      status.textContent = ""; progress.hidden = false; progress.value = 0;
      request.send(new FormData(form));
    });
  }
})();
