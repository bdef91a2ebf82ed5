/* An explorer on a page without a kernel (dlcv.explore): show the picture drawn for the range inputs'
   positions. Written once into each explorer's figure, after the frames it reads. */
(function (figure) {
  const frames = JSON.parse(figure.querySelector("script.dlcv-explorer-frames").textContent);
  const picture = figure.querySelector("img.dlcv-explorer-picture");
  const inputs = Array.from(figure.querySelectorAll(".dlcv-explorer-controls input[type='range']"));
  function show() {
    let index = 0;
    for (const input of inputs) {
      const labels = JSON.parse(input.dataset.labels);
      const position = Number(input.value);
      index = index * labels.length + position;  // the last slider fastest, as page_frames draws them
      input.setAttribute("aria-valuetext", labels[position]);
      figure.querySelector(`output[for="${input.id}"]`).textContent = labels[position];
    }
    if (String(index) === picture.dataset.frame) return;
    picture.src = frames[index].src;
    picture.alt = frames[index].alt;
    picture.dataset.frame = String(index);
  }
  for (const input of inputs) input.addEventListener("input", show);
  show();  // a browser that restores a form's positions (going back to the page) gets their picture
})(document.currentScript.closest("figure.dlcv-explorer"));
