// A tap anywhere on a folded box's title opens it, code and math in the title included.
// sphinx-togglebutton's handler finds the box's button only from the title itself, its button or
// the button's icon: a tap that lands on a <code> or a formula in the title throws ("button is not
// defined") and the box stays shut. Here such a tap is caught on its way down and handed to the
// title, as if the title itself had been tapped. A link in a title keeps its own tap.
document.addEventListener('click', (event) => {
  const title = event.target.closest('.admonition.toggle > .admonition-title');
  if (!title || event.target === title || event.target.closest('.toggle-button, a')) return;
  event.stopPropagation();
  title.click();
}, true);
