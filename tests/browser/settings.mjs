// (being built)
console.log("settings story: ok");
