// The Import page's script: the upload form is sent with XHR so a big file shows its progress
// (without script the browser posts the same form), and the import button says it is working.
// The server answers the upload with a redirect to the preview, which XHR follows: the page then
// goes there; an error page (too large, wrong format) replaces this one as it is.
(function () {
  var upload = document.getElementById("upload-form");
  if (upload && window.FormData && window.XMLHttpRequest) {
    upload.addEventListener("submit", function (event) {
      event.preventDefault();
      var box = upload.querySelector(".upload-progress");
      var bar = box.querySelector("progress");
      var text = box.querySelector("span");
      var button = upload.querySelector("button[type=submit]");
      var mb = function (n) { return n < 1048576 ? Math.ceil(n / 1024) + " KiB" : (n / 1048576).toFixed(1) + " MiB"; };
      box.hidden = false;
      // A file over the server's limit is refused here, before it is sent.
      var file = upload.querySelector("input[type=file]").files[0];
      var max = Number(upload.dataset.maxBytes || 0);
      if (file && max && file.size > max) {
        bar.hidden = true;
        text.textContent = "This file is " + mb(file.size) + ", over the " + mb(max) +
          " this server imports over the web: import it with the trailmap import command.";
        text.className = "error";
        return;
      }
      bar.hidden = false;
      text.className = "muted";
      button.disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.value = Math.round((e.loaded / e.total) * 100);
          text.textContent = "Uploading: " + mb(e.loaded) + " of " + mb(e.total);
        }
      });
      xhr.upload.addEventListener("load", function () {
        bar.value = 100;
        text.textContent = "Uploaded; reading the first rows…";
      });
      xhr.addEventListener("load", function () {
        if (xhr.status < 400 && xhr.responseURL) {
          window.location.assign(xhr.responseURL);
        } else {
          document.open();
          document.write(xhr.responseText);
          document.close();
        }
      });
      xhr.addEventListener("error", function () {
        text.textContent = "The upload failed (the connection dropped); try again.";
        button.disabled = false;
      });
      xhr.send(new FormData(upload));
    });
  }
  var settings = document.getElementById("settings-form");
  if (settings) {
    settings.addEventListener("submit", function (event) {
      if (event.submitter && event.submitter.value === "import") {
        var note = settings.querySelector(".import-running");
        if (note) note.hidden = false;
      }
    });
  }
})();
