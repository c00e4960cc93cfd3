function holdTimer(timer){var left=timer.querySelector("[data-left]"),ends=Date.parse(timer.dataset.expires),lang=document.documentElement.lang;
var minutes=new Intl.NumberFormat(lang,{style:"unit",unit:"minute",unitDisplay:"narrow"}),seconds=new Intl.NumberFormat(lang,{style:"unit",unit:"second",unitDisplay:"narrow"});
function tick(){if(!timer.isConnected)return;var s=Math.max(0,Math.round((ends-Date.now())/1e3));left.textContent=minutes.format(Math.floor(s/60))+" "+seconds.format(s%60);
if(s>0){setTimeout(tick,1e3);return}timer.textContent=timer.dataset.lapsed;timer.setAttribute("role","alert");
document.querySelectorAll("#book-form button,#book-form select,#book-form input").forEach(function(e){e.disabled=true})}
tick()}
