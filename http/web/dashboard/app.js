"use strict";
document.getElementById("app").textContent = "Session Server dashboard";
