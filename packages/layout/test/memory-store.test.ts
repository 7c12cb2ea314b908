import { objectStoreConformance, MemoryStore } from "../src/testing.js";

objectStoreConformance("MemoryStore", async () => ({ store: new MemoryStore(), cleanup: async () => undefined }));
