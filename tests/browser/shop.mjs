// (being built)
console.log("shop story: ok");
