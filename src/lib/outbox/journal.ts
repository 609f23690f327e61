import path from 'path';
import { FolderSync, rename, unlink, writeSynced } from './files';
import type { Job, Journal } from './job';

/**
 * The durable journal of a multi-step job: `<id>.state`, the whole state written, synced and renamed
 * in after each step, one write at a time, so a step's result is on disk before the next step starts.
 */
export function diskJournal(job: Job, tmpDir: string, jobsDir: string, folder: FolderSync, unwritable: (err: unknown) => Error): Journal {
    let writing = Promise.resolve();
    let version = 0;
    const write = async () => {
        const tmp = path.join(tmpDir, `${job.id}.state.${++version}`);
        try {
            await writeSynced(tmp, [Buffer.from(JSON.stringify(job.state))]);
            await rename(tmp, path.join(jobsDir, `${job.id}.state`));
        } catch (err) {
            // Not left behind: the job's next run counts its versions from 1 again, and would find it there.
            await unlink(tmp).catch(() => undefined);
            throw err;
        }
        await folder.sync();
    };
    return {
        steps: job.state,
        record: (step, value) => {
            job.state[step] = value;
            writing = writing.then(write, write);
            return writing.catch((err) => {
                throw unwritable(err);
            });
        },
    };
}
