"""TransE knowledge-graph embeddings (Bordes et al. 2013) as the common PyTorch
implementations write them: entity and relation nn.Embedding tables (entities with
max_norm=1, renormalized at lookup as in the paper's constraint), uniform init in
[-6/sqrt(d), 6/sqrt(d)] and relation normalization, the L1 distance ||h + r - t||_1 via
torch.norm(p=1), negatives by corrupting heads or tails with torch.where on a bernoulli draw,
nn.MarginRankingLoss(margin=1.0) with target -1, and evaluation by the rank of the true tail
among all entities (mean rank, hits@3) with topk/argsort on a broadcast distance matrix."""

import math

import torch
import torch.nn as nn

torch.manual_seed(0)

# A synthetic graph: entities on a line; relation r_k maps entity e to e + k + 1
num_entities, num_relations = 40, 3
heads = torch.arange(num_entities).repeat(num_relations)
relations = torch.arange(num_relations).repeat_interleave(num_entities)
tails = heads + relations + 1
keep = tails < num_entities
triples = torch.stack([heads, relations, tails], dim=1)[keep]
perm = torch.randperm(len(triples))
train_triples, test_triples = triples[perm[:90]], triples[perm[90:]]


class TransE(nn.Module):
    def __init__(self, entity_count, relation_count, dim=16, margin=1.0, norm=1):
        super(TransE, self).__init__()
        self.entity_count, self.dim, self.norm = entity_count, dim, norm
        self.entities_emb = self._init_entity_emb()
        self.relations_emb = self._init_relation_emb(relation_count)
        self.criterion = nn.MarginRankingLoss(margin=margin, reduction="none")

    def _init_entity_emb(self):
        entities_emb = nn.Embedding(num_embeddings=self.entity_count + 1, embedding_dim=self.dim,
                                    padding_idx=self.entity_count, max_norm=1.0)  # fmt: skip
        uniform_range = 6 / math.sqrt(self.dim)
        entities_emb.weight.data.uniform_(-uniform_range, uniform_range)
        return entities_emb

    def _init_relation_emb(self, relation_count):
        relations_emb = nn.Embedding(num_embeddings=relation_count + 1, embedding_dim=self.dim,
                                     padding_idx=relation_count)  # fmt: skip
        uniform_range = 6 / math.sqrt(self.dim)
        relations_emb.weight.data.uniform_(-uniform_range, uniform_range)
        # -1 to avoid nan for OOV vector
        relations_emb.weight.data[:-1, :].div_(
            relations_emb.weight.data[:-1, :].norm(p=1, dim=1, keepdim=True)
        )
        return relations_emb

    def forward(self, positive_triplets, negative_triplets):
        positive_distances = self._distance(positive_triplets)
        negative_distances = self._distance(negative_triplets)
        return (
            self.loss(positive_distances, negative_distances),
            positive_distances,
            negative_distances,
        )

    def predict(self, triplets):
        return self._distance(triplets)

    def loss(self, positive_distances, negative_distances):
        target = torch.tensor([-1], dtype=torch.long, device=positive_distances.device)
        return self.criterion(positive_distances, negative_distances, target)

    def _distance(self, triplets):
        assert triplets.size()[1] == 3
        heads = triplets[:, 0]
        relations = triplets[:, 1]
        tails = triplets[:, 2]
        return (
            self.entities_emb(heads) + self.relations_emb(relations) - self.entities_emb(tails)
        ).norm(p=self.norm, dim=1)


def corrupt(batch):
    """Replace the head or the tail (a fair coin per triple) by a random entity."""
    head_or_tail = torch.randint(high=2, size=(batch.size(0),))
    random_entities = torch.randint(high=num_entities, size=(batch.size(0),))
    broken_heads = torch.where(head_or_tail == 1, random_entities, batch[:, 0])
    broken_tails = torch.where(head_or_tail == 0, random_entities, batch[:, 2])
    return torch.stack((broken_heads, batch[:, 1], broken_tails), dim=1)


model = TransE(num_entities, num_relations)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
losses = []
for epoch in range(50):
    perm = torch.randperm(len(train_triples))
    epoch_loss = 0.0
    for i in range(0, len(perm), 25):
        positive = train_triples[perm[i : i + 25]]
        negative = corrupt(positive)
        optimizer.zero_grad()
        loss, pd, nd = model(positive, negative)
        loss.mean().backward()
        optimizer.step()
        epoch_loss += loss.sum().item()
    losses.append(epoch_loss / len(train_triples))
    if epoch % 20 == 0:
        print(f"epoch {epoch}: loss {losses[-1]:.4f}")

norm_before_lookup = model.entities_emb.weight.data[:-1].norm(dim=1).max().item()
with torch.no_grad():
    model.entities_emb(torch.arange(num_entities))  # a lookup renormalizes the rows it reads
max_used_norm = model.entities_emb.weight.data[:-1].norm(dim=1).max().item()


@torch.no_grad()
def evaluate(triples):
    h = model.entities_emb(triples[:, 0])
    r = model.relations_emb(triples[:, 1])
    all_entities = model.entities_emb(torch.arange(num_entities))
    distances = (h + r).unsqueeze(1) - all_entities.unsqueeze(0)  # (n, E, d)
    scores = distances.norm(p=1, dim=2)
    ranks = (scores.argsort(dim=1) == triples[:, 2:3]).nonzero()[:, 1] + 1
    hits3 = (scores.topk(3, dim=1, largest=False).indices == triples[:, 2:3]).any(1).float().mean()
    return ranks.float().mean().item(), hits3.item()


train_mean_rank, train_hits3 = evaluate(train_triples)
test_mean_rank, test_hits3 = evaluate(test_triples)
print(
    f"mean rank train {train_mean_rank:.1f} test {test_mean_rank:.1f}, hits@3 test {test_hits3:.2f}"
)
