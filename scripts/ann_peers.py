"""The neighbour self-search of knnpref's fit, done by faiss and hnswlib on
the same vectors and thread count (scripts/bench_scale.sh runs this in a
private venv; never in CI).

Every prompt vector searches the prompts and every response vector (A and B
of each battle, interleaved as knnpref indexes them) the responses, for
`--k` hits, after building each graph with M 16, efConstruction 100 and
searching with efSearch `--ef`. Recall@20 is measured on 2,000 queries
spread evenly over each collection, against faiss's exact inner product.
Prints one JSON object.
"""
import argparse
import json
import time

import numpy as np
import pyarrow.parquet as pq


def columns(path):
    table = pq.read_table(path, columns=["prompt", "response_a", "response_b"])
    out = []
    for name in ["prompt", "response_a", "response_b"]:
        col = table.column(name).combine_chunks()
        dim = col.type.list_size
        out.append(np.asarray(col.flatten().to_numpy(zero_copy_only=False), dtype=np.float32).reshape(-1, dim))
    return out


def recall(found, truth):
    hits = sum(len(set(f[:20]) & set(t[:20])) for f, t in zip(found, truth))
    return hits / (20 * len(truth))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vectors")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--k", type=int, default=42)
    ap.add_argument("--ef", type=int, default=128)
    args = ap.parse_args()

    import faiss
    import hnswlib

    faiss.omp_set_num_threads(args.threads)
    prompt, a, b = columns(args.vectors)
    responses = np.empty((2 * len(a), a.shape[1]), dtype=np.float32)
    responses[0::2], responses[1::2] = a, b
    report = {"threads": args.threads, "k": args.k, "ef": args.ef}
    for name, data in [("prompts", prompt), ("responses", responses)]:
        n, dim = data.shape
        sample = np.arange(0, n, max(1, n // 2000))[:2000]
        flat = faiss.IndexFlatIP(dim)
        flat.add(data)
        _, truth = flat.search(data[sample], 20)
        row = {"n": n}

        t = time.perf_counter()
        fh = faiss.IndexHNSWFlat(dim, 16, faiss.METRIC_INNER_PRODUCT)
        fh.hnsw.efConstruction = 100
        fh.add(data)
        row["faiss_build"] = time.perf_counter() - t
        fh.hnsw.efSearch = args.ef
        t = time.perf_counter()
        fh.search(data, args.k)
        row["faiss_search"] = time.perf_counter() - t
        row["faiss_recall"] = recall(fh.search(data[sample], 20)[1], truth)

        t = time.perf_counter()
        hl = hnswlib.Index(space="ip", dim=dim)
        hl.init_index(max_elements=n, M=16, ef_construction=100, random_seed=0)
        hl.set_num_threads(args.threads)
        hl.add_items(data, np.arange(n))
        row["hnswlib_build"] = time.perf_counter() - t
        hl.set_ef(args.ef)
        t = time.perf_counter()
        hl.knn_query(data, k=args.k)
        row["hnswlib_search"] = time.perf_counter() - t
        row["hnswlib_recall"] = recall(hl.knn_query(data[sample], k=20)[0], truth)
        report[name] = row
    print(json.dumps(report))


if __name__ == "__main__":
    main()
