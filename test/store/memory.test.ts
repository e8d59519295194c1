import { memoryStore } from '../../src/store/memory.js';
import { storeContract } from './contract.js';

storeContract('memory', async (options) => ({ store: memoryStore(options), cleanup: async () => {} }));
