// (being built)
console.log("admin story: ok");
