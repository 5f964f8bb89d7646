"""Neural collaborative filtering as the NCF reference repositories write it (He et al.,
2017): a ``Dataset`` that draws fresh negative items every epoch (``ng_sample`` with
``torch.randint``), NeuMF = GMF embeddings (elementwise product) beside an MLP tower on
concatenated user/item embeddings (``nn.init.normal_(std=0.01)``, ``xavier_uniform_``,
``kaiming_uniform_(a=1, nonlinearity='sigmoid')``), ``nn.BCEWithLogitsLoss`` on the fused
``predict_layer``, and the leave-one-out evaluation: each test user's held-out item ranked
among 20 sampled negatives, ``torch.topk`` -> ``torch.take``, HR@5 and NDCG@5."""

import math

import torch
import torch.nn as nn
import torch.utils.data as data

torch.manual_seed(0)
N_USERS, N_ITEMS, FACTORS, NUM_NG, TOP_K = 30, 40, 8, 2, 5

user_taste = torch.randn(N_USERS, 4)
item_style = torch.randn(N_ITEMS, 4)
affinity = user_taste @ item_style.T
interacted = affinity > affinity.quantile(0.75, dim=1, keepdim=True)
test_items = torch.stack([torch.nonzero(row).flatten()[0] for row in interacted])
train_mat = interacted.clone()
train_mat[torch.arange(N_USERS), test_items] = False
train_pairs = torch.nonzero(train_mat)


class NCFData(data.Dataset):
    def __init__(self, pairs, train_mat, num_ng):
        self.pairs, self.train_mat, self.num_ng = pairs, train_mat, num_ng
        self.features, self.labels = pairs, torch.ones(len(pairs))

    def ng_sample(self):
        negatives = []
        for u, _ in self.pairs.tolist():
            for _ in range(self.num_ng):
                j = torch.randint(N_ITEMS, ()).item()
                while self.train_mat[u, j]:
                    j = torch.randint(N_ITEMS, ()).item()
                negatives.append([u, j])
        neg = torch.tensor(negatives)
        self.features = torch.cat([self.pairs, neg])
        self.labels = torch.cat([torch.ones(len(self.pairs)), torch.zeros(len(neg))])

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return self.features[idx, 0], self.features[idx, 1], self.labels[idx]


class NeuMF(nn.Module):
    def __init__(self, user_num, item_num, factor_num, num_layers, dropout):
        super().__init__()
        mlp_dim = factor_num * (2 ** (num_layers - 1))
        self.embed_user_GMF = nn.Embedding(user_num, factor_num)
        self.embed_item_GMF = nn.Embedding(item_num, factor_num)
        self.embed_user_MLP = nn.Embedding(user_num, mlp_dim)
        self.embed_item_MLP = nn.Embedding(item_num, mlp_dim)
        modules = []
        for i in range(num_layers):
            input_size = factor_num * (2 ** (num_layers - i))
            modules += [nn.Dropout(p=dropout), nn.Linear(input_size, input_size // 2), nn.ReLU()]
        self.MLP_layers = nn.Sequential(*modules)
        self.predict_layer = nn.Linear(factor_num * 2, 1)
        self._init_weight_()

    def _init_weight_(self):
        for emb in (self.embed_user_GMF, self.embed_item_GMF):
            nn.init.normal_(emb.weight, std=0.01)
        for emb in (self.embed_user_MLP, self.embed_item_MLP):
            nn.init.normal_(emb.weight, std=0.01)
        for m in self.MLP_layers:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
        nn.init.kaiming_uniform_(self.predict_layer.weight, a=1, nonlinearity="sigmoid")
        for m in self.modules():
            if isinstance(m, nn.Linear) and m.bias is not None:
                m.bias.data.zero_()

    def forward(self, user, item):
        output_GMF = self.embed_user_GMF(user) * self.embed_item_GMF(item)
        interaction = torch.cat((self.embed_user_MLP(user), self.embed_item_MLP(item)), -1)
        output_MLP = self.MLP_layers(interaction)
        concat = torch.cat((output_GMF, output_MLP), -1)
        return self.predict_layer(concat).view(-1)


def metrics(model, test_users, test_candidates, top_k):
    HR, NDCG = [], []
    for u, candidates in zip(test_users, test_candidates):
        user = torch.full((len(candidates),), u, dtype=torch.long)
        predictions = model(user, candidates)
        _, indices = torch.topk(predictions, top_k)
        recommends = torch.take(candidates, indices).tolist()
        gt_item = candidates[0].item()
        HR.append(1.0 if gt_item in recommends else 0.0)
        NDCG.append(1 / math.log2(recommends.index(gt_item) + 2) if gt_item in recommends else 0.0)
    return sum(HR) / len(HR), sum(NDCG) / len(NDCG)


candidates = []
for u in range(N_USERS):
    pool = torch.nonzero(~interacted[u]).flatten()
    negs = pool[torch.randperm(len(pool))[:20]]
    candidates.append(torch.cat([test_items[u : u + 1], negs]))

train_dataset = NCFData(train_pairs, train_mat, NUM_NG)
model = NeuMF(N_USERS, N_ITEMS, FACTORS, num_layers=2, dropout=0.1)
loss_function = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
epoch_losses, hr_history, ndcg_history = [], [], []
for epoch in range(6):
    model.train()
    train_dataset.ng_sample()
    loader = data.DataLoader(train_dataset, batch_size=64, shuffle=True)
    total = 0.0
    for user, item, label in loader:
        model.zero_grad()
        prediction = model(user, item)
        loss = loss_function(prediction, label.float())
        loss.backward()
        optimizer.step()
        total += loss.item() * len(label)
    epoch_losses.append(total / len(train_dataset))
    model.eval()
    with torch.no_grad():
        HR, NDCG = metrics(model, range(N_USERS), candidates, TOP_K)
    hr_history.append(HR)
    ndcg_history.append(NDCG)
    print(f"epoch {epoch:02d} loss {epoch_losses[-1]:.4f} HR: {HR:.3f}\tNDCG: {NDCG:.3f}")
n_train, n_samples = len(train_pairs), len(train_dataset)
