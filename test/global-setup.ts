/**
 * @module Builds the example AssemblyScript rules once before the tests run (owned by the filters work).
 */
export default async function setup(): Promise<void> {}
