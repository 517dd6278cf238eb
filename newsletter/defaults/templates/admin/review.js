// The review page's keyboard shortcut, a progressive enhancement: without this
// script the Approve button does the same. Ctrl+Enter (Cmd+Enter on a Mac) in the
// translation approves it; the server then opens the next entry still to review.
(function () {
  "use strict";
  var form = document.querySelector("form.review-form");
  if (!form) { return; }
  var approve = form.querySelector("button.approve");
  var text = form.querySelector("textarea");
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) { event.preventDefault(); return; }  // one save per page: no double posts
    sent = true;
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (form.requestSubmit) { form.requestSubmit(approve); } else { approve.click(); }
    }
  });
  // after an approval the next entry opens: put the cursor where the work goes on
  if (text && /[?&]saved=/.test(window.location.search)) {
    text.focus();
  }
}());
