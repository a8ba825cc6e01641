// Insert a reply template where the cursor is, without reloading the page. Without
// JavaScript the picker's form reloads the page with ?template=ID, which fills the box.
document.addEventListener("DOMContentLoaded", function () {
  var picker = document.getElementById("template-picker");
  var box = document.getElementById("reply-text");
  if (!picker || !box) return;
  picker.addEventListener("submit", function (event) {
    var option = picker.querySelector("select").selectedOptions[0];
    if (!option || !option.dataset.text) return;
    event.preventDefault();
    var at = box.selectionStart || 0, end = box.selectionEnd || 0;
    if (!box.value) { at = end = 0; }
    box.value = box.value.slice(0, at) + option.dataset.text + box.value.slice(end);
    box.focus();
    box.setSelectionRange(at + option.dataset.text.length, at + option.dataset.text.length);
  });
});
