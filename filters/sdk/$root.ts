/**
 * @module The rule's only host imports, `$root.log` and `$root.metric`.
 *
 * The canonical ABI imports a world's root-level functions from the module `$root`
 * (runtime/wit/rule.wit). AssemblyScript takes the import module name of a `declare function`
 * from the file name, so this file is named `$root.ts`: that way no `@external` decorator is
 * needed and Prettier can format the file. Rules call `log`/`metric` in `host.ts`, never these.
 */

/** `log: func(level: u8, message: string)`: level 0 trace … 4 error; message is UTF-8 at ptr/len. */
export declare function log(level: i32, ptr: usize, len: usize): void;

/** `metric: func(name: string, value: f64)`: name is UTF-8 at ptr/len. */
export declare function metric(ptr: usize, len: usize, value: f64): void;
