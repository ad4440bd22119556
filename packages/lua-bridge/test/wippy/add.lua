-- Registered as "wippy:add": its result is the sum of its arguments.
return { main = function(a, b) return a + b end }
