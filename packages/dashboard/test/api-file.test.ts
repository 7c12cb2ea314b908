import { createFileStore } from "@resourcemonitor/sink-file";
import { apiSuite } from "./api-suite.js";
import { tempDir } from "./seed.js";

apiSuite("file store", async () => ({ store: createFileStore(await tempDir()) }));
